#pragma once
// The tokenizer facade, like HF tokenizers.Tokenizer: added tokens are cut out, the
// rest is normalized, pre-tokenized into words and split by the model; then
// truncation, the post-processor's template and padding. encode is const and
// thread-safe; encode_batch runs on OpenMP threads and returns the same as a loop.
// add_tokens grows the vocabulary as HF's Tokenizer.add_tokens; save writes the
// tokenizer.json back with them (for a model grown by resize_token_embeddings).

#include <algorithm>
#include <exception>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "shopml/error.hpp"
#include "shopml/io/atomic_write.hpp"
#include "shopml/parallel.hpp"
#include "shopml/texts.hpp"
#include "shopml/tokenize/tokenizer_config.hpp"
#include "shopml/tokenize/tokenizer_json.hpp"
#include "shopml/tokenize/utf8.hpp"
#include "shopml/tokenize/vocab_files.hpp"

namespace shopml::tokenize {

class tokenizer {
 public:
  explicit tokenizer(tokenizer_config config) : c_(std::move(config)) {
    if (!c_.model) throw value_error("tokenizer needs a model");
    build_added_vocabulary();
  }

  // HF tokenizer.json (truncation and padding settings in it are kept, as HF does).
  static tokenizer from_file(const std::filesystem::path& tokenizer_json) {
    auto text = std::make_shared<const std::string>(read_text_file(tokenizer_json));
    tokenizer t(parse_tokenizer_json(*text, tokenizer_json.string()));
    t.source_json_ = std::move(text);
    return t;
  }
  static tokenizer from_json(std::string_view json_text) {
    tokenizer t(parse_tokenizer_json(json_text));
    t.source_json_ = std::make_shared<const std::string>(json_text);
    return t;
  }
  // BERT vocab.txt, configured as BertTokenizerFast.
  static tokenizer from_bert_vocab(const std::filesystem::path& vocab_txt, const bert_vocab_options& options = {}) {
    return tokenizer(bert_config_from_vocab(vocab_txt, options));
  }
  // GPT-2 vocab.json + merges.txt, configured as GPT2TokenizerFast.
  static tokenizer from_gpt2_files(const std::filesystem::path& vocab_json, const std::filesystem::path& merges_txt,
                                   const gpt2_vocab_options& options = {}) {
    return tokenizer(gpt2_config_from_files(vocab_json, merges_txt, options));
  }

  // Invalid UTF-8 is a value_error naming the text (its index in a batch) and the byte,
  // unless replace_invalid_utf8() is on.
  encoding encode(std::string_view text, bool add_special_tokens = true) const {
    return encode_one(text, add_special_tokens, utf8::no_index);
  }

  encoding encode(std::string_view a, std::string_view b, bool add_special_tokens = true) const {
    return encode_pair(a, b, add_special_tokens, utf8::no_index);
  }

  // Without these, encode("a", "b") would pick encode(string_view, bool).
  encoding encode(std::string_view a, const char* b, bool add_special_tokens = true) const {
    return encode(a, std::string_view(b), add_special_tokens);
  }
  encoding encode(std::string_view a, const std::string& b, bool add_special_tokens = true) const {
    return encode(a, std::string_view(b), add_special_tokens);
  }

  // Any contiguous range of strings (std::vector<std::string>, std::span, std::string_view
  // elements, a braced list; shopml/texts.hpp).
  std::vector<encoding> encode_batch(texts_view texts, bool add_special_tokens = true, int threads = 0) const {
    std::vector<encoding> out(texts.size());
    run_batch(texts.size(), threads, [&](std::size_t i) { out[i] = encode_one(texts[i], add_special_tokens, i); });
    if (c_.padding) pad_encodings(out, *c_.padding);
    return out;
  }

  std::vector<encoding> encode_batch(std::span<const std::pair<std::string, std::string>> pairs, bool add_special_tokens = true,
                                     int threads = 0) const {
    std::vector<encoding> out(pairs.size());
    run_batch(pairs.size(), threads,
              [&](std::size_t i) { out[i] = encode_pair(pairs[i].first, pairs[i].second, add_special_tokens, i); });
    if (c_.padding) pad_encodings(out, *c_.padding);
    return out;
  }

  void enable_truncation(std::size_t max_length, std::size_t stride = 0,
                         truncation_strategy strategy = truncation_strategy::longest_first,
                         truncation_direction direction = truncation_direction::right) {
    const std::size_t added = c_.post_process.added_tokens(false);
    if (max_length >= added && stride >= max_length - added && max_length > 0)
      throw value_error("truncation stride " + std::to_string(stride) + " must be smaller than max_length " +
                        std::to_string(max_length) + " minus the " + std::to_string(added) + " special tokens");
    c_.truncation = truncation_params{max_length, stride, strategy, direction};
  }
  // Chainable, also on a temporary: tokenizer::from_file(p).no_truncation().no_padding().
  tokenizer& no_truncation() & {
    c_.truncation.reset();
    return *this;
  }
  tokenizer&& no_truncation() && { return std::move(no_truncation()); }
  const std::optional<truncation_params>& truncation() const noexcept { return c_.truncation; }

  // length unset: pad to the longest of each batch.
  void enable_padding(std::optional<std::size_t> length = std::nullopt, padding_direction direction = padding_direction::right,
                      std::optional<std::size_t> pad_to_multiple_of = std::nullopt, std::uint32_t pad_id = 0,
                      std::uint32_t pad_type_id = 0, std::string pad_token = "[PAD]") {
    c_.padding = padding_params{length, direction, pad_to_multiple_of, pad_id, pad_type_id, std::move(pad_token)};
  }
  tokenizer& no_padding() & {
    c_.padding.reset();
    return *this;
  }
  tokenizer&& no_padding() && { return std::move(no_padding()); }
  const std::optional<padding_params>& padding() const noexcept { return c_.padding; }

  // Off (the default): a text that is not valid UTF-8 is a value_error. On: each maximal
  // invalid subpart is read as U+FFFD, as Python's bytes.decode("utf-8", errors="replace")
  // does, and offsets index that repaired text. Chainable like no_padding().
  tokenizer& replace_invalid_utf8(bool on = true) & {
    replace_invalid_utf8_ = on;
    return *this;
  }
  tokenizer&& replace_invalid_utf8(bool on = true) && { return std::move(replace_invalid_utf8(on)); }
  bool replaces_invalid_utf8() const noexcept { return replace_invalid_utf8_; }

  std::string decode(std::span<const std::uint32_t> ids, bool skip_special_tokens = true) const {
    std::vector<std::string> tokens;
    for (std::uint32_t id : ids) {
      const std::string* t = id_to_token_ptr(id);
      if (!t) continue;
      if (skip_special_tokens && added_->is_special_token(*t)) continue;
      tokens.push_back(*t);
    }
    return decode_tokens(c_.decode, tokens);
  }

  std::optional<std::uint32_t> token_to_id(std::string_view token) const {
    if (auto id = added_->token_to_id(token)) return id;
    return model_vocab().token_to_id(token);
  }
  std::optional<std::string> id_to_token(std::uint32_t id) const {
    const std::string* t = id_to_token_ptr(id);
    return t ? std::optional<std::string>(*t) : std::nullopt;
  }

  // Model vocabulary plus added tokens that are not in it (HF get_vocab_size(with_added_tokens=True)).
  std::size_t vocab_size() const {
    std::size_t n = model_vocab().size();
    for (const auto& t : added_->tokens())
      if (!model_vocab().token_to_id(t.content)) ++n;
    return n;
  }

  // Adds tokens as HF's Tokenizer.add_tokens(["...", ...]) does with plain strings: each is
  // AddedToken(content, single_word=False, lstrip=False, rstrip=False, normalized=True,
  // special=False), cut out of the normalized text wherever its normalized content occurs,
  // inside words too ("ell" splits "shell" into "sh" "ell"). Not counted: empty strings and
  // tokens already added with these same properties (a repeat in `tokens` included). Every
  // other token counts, even one the model already has: it keeps its id and becomes an added
  // token (so "hello" is then cut out of "shello"), and re-adding a special token such as
  // "[CLS]" makes it a plain, normalized one, as in HF. A token nobody has gets the next id:
  // the model's size, or one past the largest added id when that is beyond it. Returns the
  // count; vocab_size() grows by the new ids. Copies made earlier keep their tokens.
  std::size_t add_tokens(texts_view tokens) {
    std::vector<added_token> list = c_.added_tokens;
    std::unordered_map<std::string, std::size_t> index;  // content -> position in list
    for (std::size_t i = 0; i < list.size(); ++i) index[list[i].content] = i;
    const std::size_t model_size = model_vocab().size();
    std::size_t next = model_size;
    for (const auto& t : list)
      if (t.id >= model_size) next = std::max<std::size_t>(next, std::size_t{t.id} + 1);
    std::size_t count = 0;
    for (std::string_view content : tokens) {
      if (content.empty()) continue;
      utf8::validate(content, "added token");
      added_token t;
      t.content = std::string(content);
      const auto known = index.find(t.content);
      if (known != index.end()) {
        const added_token& old = list[known->second];
        if (old.single_word == t.single_word && old.lstrip == t.lstrip && old.rstrip == t.rstrip &&
            old.normalized == t.normalized && old.special == t.special)
          continue;
        t.id = old.id;
        list[known->second] = std::move(t);
      } else {
        if (const auto id = model_vocab().token_to_id(content)) {
          t.id = *id;
        } else {
          if (next > std::numeric_limits<std::uint32_t>::max())
            throw value_error("no token id left for added token '" + t.content + "'");
          t.id = static_cast<std::uint32_t>(next++);
        }
        index.emplace(t.content, list.size());
        list.push_back(std::move(t));
      }
      ++count;
    }
    if (count == 0) return 0;
    const std::shared_ptr<const added_vocabulary> before = added_;
    c_.added_tokens = std::move(list);
    build_added_vocabulary(before.get());
    return count;
  }

  // The tokenizer.json this tokenizer was read from (from_file, from_json), with its added
  // tokens, truncation and padding as they are now, in HF's format: HF's Tokenizer.from_file
  // and transformers' AutoTokenizer read it back with the same tokens and ids.
  std::string to_json() const {
    if (!source_json_)
      throw value_error(
          "this tokenizer was not read from a tokenizer.json (from_file / from_json), so it cannot be saved as one: "
          "shopml writes back the tokenizer.json it read, with the added tokens, truncation and padding changed");
    return write_tokenizer_json(*source_json_, c_);
  }
  // Writes to_json() to `path` (a file, as HF's Tokenizer.save), atomically.
  void save(const std::filesystem::path& path) const { io::write_atomically(path, to_json()); }

  const tokenizer_config& config() const noexcept { return c_; }

 private:
  // The added vocabulary and the id -> token table, from c_; `before` passes on the
  // strings that were special (HF never forgets them).
  void build_added_vocabulary(const added_vocabulary* before = nullptr) {
    auto added = std::make_shared<added_vocabulary>(c_.added_tokens, [this](const std::string& content) {
      normalized_string s(content, 0);
      c_.normalize(s);
      return s.text;
    });
    if (before) added->keep_special_strings(*before);
    // One lookup table for id -> token, added tokens taking precedence (as in HF).
    auto table = std::make_shared<std::vector<const std::string*>>(model_vocab().id_bound(), nullptr);
    for (std::uint32_t id = 0; id < table->size(); ++id) (*table)[id] = model_vocab().id_to_token(id);
    for (const auto& t : added->tokens()) {
      if (t.id >= table->size()) table->resize(t.id + 1, nullptr);
      (*table)[t.id] = added->id_to_token(t.id);
    }
    added_ = std::move(added);
    id_to_token_ = std::move(table);
  }

  const vocabulary& model_vocab() const {
    return std::visit([](const auto& m) -> const vocabulary& { return m.vocab(); }, *c_.model);
  }
  const std::string* id_to_token_ptr(std::uint32_t id) const { return id < id_to_token_->size() ? (*id_to_token_)[id] : nullptr; }

  // One text or pair, checked (or repaired) as UTF-8; `index` names it in a batch.
  encoding encode_one(std::string_view text, bool add_special_tokens, std::size_t index) const {
    std::string repaired;
    text = utf8::checked(text, repaired, replace_invalid_utf8_, "text", index);
    encoding a = encode_sequence(text, 0);
    return finish(std::move(a), nullptr, add_special_tokens);
  }
  encoding encode_pair(std::string_view a, std::string_view b, bool add_special_tokens, std::size_t index) const {
    const bool batch = index != utf8::no_index;
    std::string repaired_a, repaired_b;
    a = utf8::checked(a, repaired_a, replace_invalid_utf8_, batch ? "first text of pair" : "first text", index);
    b = utf8::checked(b, repaired_b, replace_invalid_utf8_, batch ? "second text of pair" : "second text", index);
    encoding ea = encode_sequence(a, 0);
    encoding eb = encode_sequence(b, 1);
    return finish(std::move(ea), &eb, add_special_tokens);
  }

  template <class Fn>
  static void run_batch(std::size_t n, int threads, Fn&& fn) {
    std::exception_ptr failure;
    std::vector<std::exception_ptr> errors(n);
    parallel_for(0, static_cast<std::ptrdiff_t>(n), threads, [&](std::ptrdiff_t i) {
      try {
        fn(static_cast<std::size_t>(i));
      } catch (...) {
        errors[i] = std::current_exception();
      }
    });
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);
  }

  // Appends one token the model or the added vocabulary produced. As in HF, a model
  // token's string is the model's, an added token's the text it matched (lstrip/rstrip
  // spaces and normalization included).
  struct sequence_builder {
    encoding& e;
    const tokenizer& t;
    std::uint32_t sequence;
    void add(std::uint32_t id, std::pair<std::size_t, std::size_t> offsets, std::uint32_t word) {
      const std::string* token = t.model_vocab().id_to_token(id);
      add(id, token ? std::string_view(*token) : std::string_view(), offsets, word);
    }
    void add(std::uint32_t id, std::string_view token, std::pair<std::size_t, std::size_t> offsets, std::uint32_t word) {
      e.ids.push_back(id);
      e.tokens.emplace_back(token);
      e.offsets.push_back(offsets);
      e.word_ids.push_back(word);
    }
  };

  // Per-thread buffers, so that encoding allocates little more than its result.
  struct scratch {
    normalized_string piece, sub;
    std::vector<byte_range> words;
    std::vector<model_token> pieces;
    std::vector<added_split> raw_splits, norm_splits;
    std::vector<std::uint32_t> chars_before;
  };
  static scratch& buffers() {
    thread_local scratch s;
    return s;
  }

  void tokenize_words(const normalized_string& piece, sequence_builder& out, std::uint32_t& word, scratch& buf) const {
    c_.pre_tokenize.split(piece, buf.words);
    for (const auto& w : buf.words) {
      buf.pieces.clear();
      std::visit([&](const auto& m) { m.tokenize(piece.text, w.begin, w.end, buf.pieces); }, *c_.model);
      for (const auto& p : buf.pieces) out.add(p.id, piece.original_range(p.begin, p.end), word);
      ++word;
    }
  }

  encoding encode_sequence(std::string_view text, std::uint32_t sequence) const {
    scratch& buf = buffers();
    encoding e;
    e.ids.reserve(text.size() / 3 + 4);
    e.tokens.reserve(text.size() / 3 + 4);
    e.offsets.reserve(text.size() / 3 + 4);
    e.word_ids.reserve(text.size() / 3 + 4);
    sequence_builder out{e, *this, sequence};
    std::uint32_t word = 0;
    auto& raw_splits = buf.raw_splits;
    if (added_->raw().empty())
      raw_splits.assign(1, {0, static_cast<std::uint32_t>(text.size()), std::nullopt});
    else
      added_->raw().split(text, added_->tokens(), raw_splits);
    for (const auto& rs : raw_splits) {
      if (rs.id) {
        out.add(*rs.id, text.substr(rs.begin, rs.end - rs.begin), {rs.begin, rs.end}, word++);
        continue;
      }
      normalized_string& ns = buf.piece;
      ns.assign(text.substr(rs.begin, rs.end - rs.begin), rs.begin);
      c_.normalize(ns);
      if (ns.empty()) continue;
      if (added_->normalized().empty()) {
        c_.pre_tokenize.prepare(ns);
        tokenize_words(ns, out, word, buf);
        continue;
      }
      added_->normalized().split(ns.text, added_->tokens(), buf.norm_splits);
      for (const auto& s : buf.norm_splits) {
        if (s.id) {
          out.add(*s.id, std::string_view(ns.text).substr(s.begin, s.end - s.begin), ns.original_range(s.begin, s.end), word++);
          continue;
        }
        normalized_string& sub = buf.sub;
        sub.text.assign(ns.text, s.begin, s.end - s.begin);
        sub.begin.assign(ns.begin.begin() + s.begin, ns.begin.begin() + s.end);
        sub.end.assign(ns.end.begin() + s.begin, ns.end.begin() + s.end);
        c_.pre_tokenize.prepare(sub);
        tokenize_words(sub, out, word, buf);
      }
    }
    const std::size_t n = e.ids.size();
    e.type_ids.assign(n, sequence);
    e.attention_mask.assign(n, 1);
    e.special_tokens_mask.assign(n, 0);
    e.sequence_ids.assign(n, sequence);
    e.char_offsets = char_offsets(text, e.offsets, buf.chars_before);
    return e;
  }

  static std::vector<std::pair<std::size_t, std::size_t>> char_offsets(
      std::string_view text, const std::vector<std::pair<std::size_t, std::size_t>>& bytes,
      std::vector<std::uint32_t>& chars_before) {
    if (detail::is_ascii(text)) return bytes;
    chars_before.resize(text.size() + 1);
    std::uint32_t count = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
      chars_before[i] = count;
      count += (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
    }
    chars_before[text.size()] = count;
    std::vector<std::pair<std::size_t, std::size_t>> out;
    out.reserve(bytes.size());
    for (const auto& [b, e] : bytes) out.emplace_back(chars_before[b], chars_before[e]);
    return out;
  }

  encoding finish(encoding a, encoding* b, bool add_special_tokens) const {
    if (c_.truncation) {
      truncation_params p = *c_.truncation;
      const std::size_t added = add_special_tokens ? c_.post_process.added_tokens(b != nullptr) : 0;
      p.max_length = p.max_length > added ? p.max_length - added : 0;
      truncate_encodings(a, b, p);
    }
    encoding result = c_.post_process.process(std::move(a), b, add_special_tokens);
    if (c_.padding) pad_encodings(std::span<encoding>(&result, 1), *c_.padding);
    return result;
  }

  tokenizer_config c_;
  std::shared_ptr<const added_vocabulary> added_;
  std::shared_ptr<const std::vector<const std::string*>> id_to_token_;  // points into added_ and the model
  bool replace_invalid_utf8_ = false;                                   // replace_invalid_utf8()
  std::shared_ptr<const std::string> source_json_;  // the tokenizer.json read (from_file, from_json), for to_json
};

}  // namespace shopml::tokenize
