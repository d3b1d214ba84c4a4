"""Tokenizer and SentenceEncoder against the encoder goldens (sentence-transformers 6.2.0,
the same files tests/nn/test_minilm_parity.cpp checks the C++ against)."""

import numpy as np
import pytest

import shopml
from conftest import golden_embeddings, golden_token_ids


def sentence_tokenizer(model_dir):
    """The tokenizer as the encoder runs it: cut at max_seq_length (256), no padding."""
    tok = shopml.Tokenizer.from_pretrained(model_dir)
    tok.enable_truncation(256)
    tok.no_padding()
    return tok


def test_tokenizer_ids_match_the_golden_tokens_of_every_text(model_dir, texts):
    tok = sentence_tokenizer(model_dir)
    expected = golden_token_ids()
    assert len(texts) == len(expected) >= 2000
    mismatched = [i for i, (t, ids) in enumerate(zip(texts, expected)) if tok.encode(t).ids.tolist() != ids]
    assert mismatched == []


def test_encoding_fields_are_numpy_arrays_in_step(model_dir):
    tok = sentence_tokenizer(model_dir)
    enc = tok.encode("Red cotton T-shirt, size M")
    assert enc.ids.dtype == np.int64 and enc.ids.shape == (len(enc),)
    for field in (enc.type_ids, enc.attention_mask, enc.special_tokens_mask):
        assert field.shape == enc.ids.shape
    assert enc.tokens[0] == "[CLS]" and enc.tokens[-1] == "[SEP]"
    assert len(enc.tokens) == len(enc.offsets) == len(enc.word_ids) == len(enc)
    assert enc.offsets[1] == (0, 3)  # "red", in code points of the text
    assert tok.decode(enc.ids.tolist()) == "red cotton t - shirt, size m"
    assert tok.id_to_token(int(enc.ids[1])) == "red" and tok.token_to_id("red") == enc.ids[1]
    pair = tok.encode("red tee", "blue jeans")
    assert pair.type_ids.tolist().count(1) == len(tok.encode("blue jeans")) - 1


def test_encode_batch_is_each_encode_padded_to_the_longest(model_dir, texts):
    tok = sentence_tokenizer(model_dir)
    some = texts[:64]
    batch = tok.encode_batch(some, threads=2)
    width = max(len(tok.encode(t)) for t in some)
    assert set(batch) == {"input_ids", "token_type_ids", "attention_mask"}
    assert batch["input_ids"].shape == (len(some), width) and batch["input_ids"].dtype == np.int64
    for row, text in enumerate(some):
        ids = tok.encode(text).ids
        assert np.array_equal(batch["input_ids"][row, : len(ids)], ids)
        assert np.all(batch["input_ids"][row, len(ids) :] == tok.token_to_id("[PAD]"))
        assert batch["attention_mask"][row].sum() == len(ids)


def test_tokenizer_json_padding_is_kept_as_hf_does(model_dir):
    tok = shopml.Tokenizer.from_pretrained(model_dir)  # all-MiniLM's tokenizer.json pads to 128
    assert tok.encode_batch(["red tee", "blue"])["input_ids"].shape == (2, 128)


def test_embeddings_match_sentence_transformers(encoder, texts):
    reference = golden_embeddings()
    picked = np.linspace(0, len(texts), 200, endpoint=False).astype(int)  # as the C++ parity subset
    got = encoder.encode([texts[i] for i in picked], batch_size=32)
    assert got.shape == (200, 384) and got.dtype == np.float32 and got.flags.c_contiguous
    ref = reference[picked]
    cosine = (got * ref).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(ref, axis=1)
    assert cosine.min() >= 0.99999
    assert np.abs(got - ref).max() <= 1e-4


def test_encode_returns_the_cpp_buffer_without_a_copy(encoder):
    got = encoder.encode(["red tee", "blue jeans"])
    assert not got.flags.owndata and got.base is not None  # a view of the C++ matrix, freed with it
    del got  # the capsule frees the C++ buffer; nothing to assert beyond not crashing


def test_batch_size_threads_and_normalisation(encoder, texts):
    few = texts[:40]
    one = encoder.encode(few, batch_size=1, threads=1)
    many = encoder.encode(few, batch_size=7, threads=2, normalize_embeddings=True)
    assert np.abs(one - many).max() < 1e-5  # the model's Normalize module already makes rows unit length
    assert np.allclose(np.linalg.norm(many, axis=1), 1.0, atol=1e-5)
    assert encoder.dimension == encoder.get_sentence_embedding_dimension() == 384
    assert encoder.max_seq_length == 256


@pytest.mark.parametrize("precision, floor", [("bf16", 0.99), ("int8", 0.99)])
def test_reduced_precision_stays_close_to_fp32(model_dir, encoder, texts, precision, floor):
    reduced = shopml.SentenceEncoder.from_pretrained(model_dir, precision=precision)
    few = texts[::100]
    a, b = encoder.encode(few), reduced.encode(few)
    assert ((a * b).sum(1)).min() >= floor  # rows are unit length


def test_empty_input_gives_an_empty_matrix(encoder):
    assert encoder.encode([]).shape == (0, 384)
