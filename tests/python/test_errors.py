"""shopml errors become Python exceptions with the C++ message, in one hierarchy."""

import pytest

import shopml


def test_hierarchy():
    for cls in (shopml.ParseError, shopml.ShapeError, shopml.ShopmlValueError, shopml.IoError, shopml.CudaError):
        assert issubclass(cls, shopml.ShopmlError)
    assert issubclass(shopml.ParseError, ValueError) and issubclass(shopml.ShapeError, ValueError)
    assert issubclass(shopml.ShopmlValueError, ValueError)
    assert issubclass(shopml.IoError, OSError) and issubclass(shopml.CudaError, RuntimeError)


def test_io_errors_name_the_path(tmp_path):
    with pytest.raises(shopml.IoError, match=r"^\[shopml.io\] .*nothing-here"):
        shopml.Tokenizer.from_file(tmp_path / "nothing-here" / "tokenizer.json")
    with pytest.raises(shopml.IoError, match="does not exist"):
        shopml.SentenceEncoder.from_pretrained(tmp_path / "no-model")
    with pytest.raises(OSError):  # caught as Python code would catch any file error
        shopml.ItemItemRecommender.load(tmp_path / "missing.safetensors")


def test_parse_errors_name_the_file(tmp_path):
    broken = tmp_path / "tokenizer.json"
    broken.write_text('{"model": ')
    with pytest.raises(shopml.ParseError, match=r"^\[shopml.parse\]"):
        shopml.Tokenizer.from_file(broken)
    garbage = tmp_path / "head.safetensors"
    garbage.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    with pytest.raises(shopml.ParseError, match="label_type"):
        shopml.LogisticRegression.load(garbage)


def test_value_errors(model_dir):
    with pytest.raises(shopml.ShopmlValueError, match="precision must be 'fp32', 'bf16' or 'int8', got 'fp8'"):
        shopml.SentenceEncoder.from_pretrained(model_dir, precision="fp8")
    encoder = shopml.SentenceEncoder.from_pretrained(model_dir)
    with pytest.raises(shopml.ShopmlValueError, match="batch_size"):
        encoder.encode(["a"], batch_size=0)
    with pytest.raises(TypeError):  # not a list of str: nanobind refuses the call itself
        encoder.encode([1, 2])
