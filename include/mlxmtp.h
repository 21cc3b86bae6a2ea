/*
 * mlxmtp.h -- the public C API of libmlxmtp.  This header is the spec:
 * anything not declared here is private and may change at any time.
 *
 * libmlxmtp quantizes and runs Qwen3.5 / Qwen3.6-family models on any Vulkan
 * GPU, with native multi-token-prediction (MTP) speculative decoding.
 *
 * Usage example (error handling shortened):
 *
 *     #include <mlxmtp.h>
 *     #include <stdio.h>
 *
 *     int main(void) {
 *         mlxmtp_instance *inst = NULL;
 *         if (mlxmtp_instance_create(NULL, &inst) != MLXMTP_OK) {
 *             fprintf(stderr, "%s\n", mlxmtp_last_error());
 *             return 1;
 *         }
 *         uint32_t n = mlxmtp_instance_device_count(inst);
 *         for (uint32_t i = 0; i < n; ++i) {
 *             mlxmtp_device_info info;
 *             mlxmtp_device_info_init(&info);
 *             mlxmtp_instance_device_info(inst, i, &info);
 *             printf("%u: %s\n", i, info.name);
 *         }
 *         mlxmtp_instance_destroy(inst);
 *         return 0;
 *     }
 *
 * Conventions (see docs/api.md):
 *  - Fallible functions return mlxmtp_status: MLXMTP_OK (0) or a negative code.
 *  - Objects come back through a `T **out` last parameter and belong to the
 *    caller; every object has a destroy function that accepts NULL.
 *  - Params and info structs start with `struct_size`; call the matching
 *    `_init()` before filling them.  The library reads / writes only
 *    `struct_size` bytes, so older callers keep working.
 *  - Callbacks may run on any thread, must be thread-safe and must not call
 *    back into the library unless their documentation says so.
 *  - Enums are open: new values may appear in later versions.
 */
#ifndef MLXMTP_H
#define MLXMTP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Export and deprecation macros                                             */
/* ------------------------------------------------------------------------ */

#if defined(_WIN32) && defined(MLXMTP_SHARED_BUILD)
#  define MLXMTP_API __declspec(dllexport)
#elif defined(_WIN32) && defined(MLXMTP_SHARED)
#  define MLXMTP_API __declspec(dllimport)
#elif defined(__GNUC__)
#  define MLXMTP_API __attribute__((visibility("default")))
#else
#  define MLXMTP_API
#endif

/** Marks a declaration deprecated since version `since`.  Define
 *  MLXMTP_NO_DEPRECATION_WARNINGS to silence the warnings. */
#if defined(MLXMTP_NO_DEPRECATION_WARNINGS)
#  define MLXMTP_DEPRECATED(since, msg)
#elif defined(__GNUC__)
#  define MLXMTP_DEPRECATED(since, msg) __attribute__((deprecated("since " #since ": " msg)))
#else
#  define MLXMTP_DEPRECATED(since, msg)
#endif

/* ------------------------------------------------------------------------ */
/* Versions                                                                  */
/* ------------------------------------------------------------------------ */

#define MLXMTP_VERSION_MAJOR 0
#define MLXMTP_VERSION_MINOR 1
#define MLXMTP_VERSION_PATCH 0
/** MAJOR*10000 + MINOR*100 + PATCH. */
#define MLXMTP_VERSION_NUMBER \
    (MLXMTP_VERSION_MAJOR * 10000 + MLXMTP_VERSION_MINOR * 100 + MLXMTP_VERSION_PATCH)
#define MLXMTP_VERSION_STRING "0.1.0"
/** The SOVERSION: bumped on any ABI break, never on additions. */
#define MLXMTP_ABI_VERSION 0
/** True when the header is at least version x.y.z. */
#define MLXMTP_AT_LEAST_VERSION(x, y, z) \
    (MLXMTP_VERSION_NUMBER >= ((x) * 10000 + (y) * 100 + (z)))

/** Run-time library version as MAJOR*10000+MINOR*100+PATCH.  Compare it with
 *  MLXMTP_VERSION_NUMBER to check header and library agree.
 *  Thread-safe.  Since: 0.1. */
MLXMTP_API uint32_t mlxmtp_version_number(void);
/** Run-time library version string ("0.1.0"); static storage.  Since: 0.1. */
MLXMTP_API const char *mlxmtp_version_string(void);
/** Run-time ABI version (the SOVERSION).  Since: 0.1. */
MLXMTP_API uint32_t mlxmtp_abi_version(void);

/* ------------------------------------------------------------------------ */
/* Status codes (values are pinned and never renumbered)                      */
/* ------------------------------------------------------------------------ */

/** Result of every fallible call.  0 is success, errors are negative.
 *  Values from 0 to -100 are stable; values below -100 are unstable. */
typedef int32_t mlxmtp_status;

#define MLXMTP_OK                     0
#define MLXMTP_ERR_INVALID_ARG       -1  /**< a NULL or out-of-range argument, unknown flag bits */
#define MLXMTP_ERR_OUT_OF_MEMORY     -2  /**< host memory exhausted */
#define MLXMTP_ERR_DEVICE_OUT_OF_MEMORY -3 /**< device memory exhausted or over a device limit */
#define MLXMTP_ERR_DEVICE_LOST       -4  /**< the GPU was lost; the object only accepts destroy */
#define MLXMTP_ERR_NO_DEVICE         -5  /**< no usable Vulkan device (or index out of range) */
#define MLXMTP_ERR_VULKAN            -6  /**< any other Vulkan failure */
#define MLXMTP_ERR_IO                -7  /**< a file could not be read or written */
#define MLXMTP_ERR_FORMAT            -8  /**< a file is malformed (safetensors, JSON, tokenizer, image) */
#define MLXMTP_ERR_CONFIG            -9  /**< a model configuration is missing fields or out of range */
#define MLXMTP_ERR_UNSUPPORTED      -10  /**< valid, but not supported by this build or device */
#define MLXMTP_ERR_NOT_FOUND        -11  /**< a named file, tensor or entry does not exist */
#define MLXMTP_ERR_EXISTS           -12  /**< the output exists and overwriting was not allowed */
#define MLXMTP_ERR_BUSY             -13  /**< the object still has live children */
#define MLXMTP_ERR_ABORTED          -14  /**< stopped by the caller's abort or progress callback */
#define MLXMTP_ERR_CONTEXT_FULL     -15  /**< the session's context limit is reached */
#define MLXMTP_ERR_SHADER           -16  /**< a kernel failed to compile or build a pipeline */
#define MLXMTP_ERR_TEMPLATE         -17  /**< a chat template failed to parse or render */
#define MLXMTP_ERR_NO_SPACE         -18  /**< not enough free disk space */
#define MLXMTP_ERR_BAD_STATE        -19  /**< the call is not valid in the object's current state */
#define MLXMTP_ERR_BUFFER_TOO_SMALL -20  /**< a caller buffer is too small; the needed size is reported */
#define MLXMTP_ERR_INTERNAL         -99  /**< a bug in the library; please report it */

/** Static, never-NULL English text for a status code (unknown codes give
 *  "unknown status").  Thread-safe.  Since: 0.1. */
MLXMTP_API const char *mlxmtp_status_string(mlxmtp_status status);

/** The message of the last failure on the calling thread, for failures that
 *  happen before an object exists (and, as a copy, for every other failure).
 *  Never NULL ("" when there was none).  Valid until the next library call on
 *  this thread.  Since: 0.1. */
MLXMTP_API const char *mlxmtp_last_error(void);

/* ------------------------------------------------------------------------ */
/* Logging                                                                    */
/* ------------------------------------------------------------------------ */

/** Log levels (open enum). */
#define MLXMTP_LOG_ERROR 0
#define MLXMTP_LOG_WARN  1
#define MLXMTP_LOG_INFO  2
#define MLXMTP_LOG_DEBUG 3

/** Log callback: `level` is an MLXMTP_LOG_* value, `message` is one line
 *  without a trailing newline, valid only during the call.  May run on any
 *  thread; must be thread-safe and must not call into the library. */
typedef void (*mlxmtp_log_fn)(int32_t level, const char *message, void *user_data);

/** Sets the process-wide callback used only for messages emitted before an
 *  instance exists (and by instances created without their own callback).
 *  NULL restores the default (WARN and ERROR to stderr).  Call it before
 *  creating instances; it is not synchronised with concurrent logging.
 *  Since: 0.1. */
MLXMTP_API void mlxmtp_set_log_callback(mlxmtp_log_fn fn, void *user_data);

/* ------------------------------------------------------------------------ */
/* Instance and devices                                                       */
/* ------------------------------------------------------------------------ */

/** Owns a Vulkan instance, the device list and a log callback.  Thread-safe
 *  for all calls except destroy. */
typedef struct mlxmtp_instance mlxmtp_instance;

/** Instance creation flags. */
#define MLXMTP_INSTANCE_VALIDATION 0x1u /**< enable the Khronos validation layer (error if absent) */

/** Parameters of mlxmtp_instance_create. */
typedef struct mlxmtp_instance_params {
    uint32_t struct_size;     /**< = sizeof(mlxmtp_instance_params); set by _init() */
    uint32_t flags;           /**< MLXMTP_INSTANCE_* bits; unknown bits -> MLXMTP_ERR_INVALID_ARG */
    mlxmtp_log_fn log_cb;     /**< per-instance log callback; NULL = default (WARN/ERROR to stderr) */
    void *log_user_data;      /**< passed to log_cb */
    int32_t log_level;        /**< most verbose level delivered; default MLXMTP_LOG_WARN */
    uint32_t reserved0;       /**< must be 0 */
    const char *cache_dir;    /**< kernel cache directory; NULL = $XDG_CACHE_HOME/mlxmtp or ~/.cache/mlxmtp; "" disables the disk cache */
    uint64_t max_allocation_size; /**< testing knob: cap on one device allocation in bytes, 0 = device limit */
    uint64_t max_device_memory;   /**< testing knob: cap on total device memory this instance allocates per device, 0 = none */
} mlxmtp_instance_params;

/** Fills `p` with defaults and sets struct_size.  Since: 0.1. */
MLXMTP_API void mlxmtp_instance_params_init(mlxmtp_instance_params *p);

/** Creates an instance.  `params` may be NULL (defaults).
 *  @return MLXMTP_OK, MLXMTP_ERR_NO_DEVICE (no Vulkan loader / driver),
 *          MLXMTP_ERR_INVALID_ARG, MLXMTP_ERR_UNSUPPORTED (validation asked, layer absent).
 *  On failure *out is NULL and mlxmtp_last_error() explains.  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_instance_create(const mlxmtp_instance_params *params,
                                                mlxmtp_instance **out);

/** Destroys an instance; NULL is a no-op.  All models created on it must be
 *  destroyed first (otherwise undefined behaviour).  Since: 0.1. */
MLXMTP_API void mlxmtp_instance_destroy(mlxmtp_instance *inst);

/** The message of the last failure of a call on this instance; never NULL.
 *  Valid until the next call on the instance.  Since: 0.1. */
MLXMTP_API const char *mlxmtp_instance_last_error(const mlxmtp_instance *inst);

/** Number of Vulkan devices that can run compute.  Since: 0.1. */
MLXMTP_API uint32_t mlxmtp_instance_device_count(const mlxmtp_instance *inst);

/** Device types (open enum; the values equal VkPhysicalDeviceType's). */
#define MLXMTP_DEVICE_OTHER      0
#define MLXMTP_DEVICE_INTEGRATED 1
#define MLXMTP_DEVICE_DISCRETE   2
#define MLXMTP_DEVICE_VIRTUAL    3
#define MLXMTP_DEVICE_CPU        4

/** Device feature bits in mlxmtp_device_info.features. */
#define MLXMTP_FEATURE_FP16               0x01u /**< shaderFloat16 arithmetic */
#define MLXMTP_FEATURE_INT8               0x02u /**< shaderInt8 arithmetic */
#define MLXMTP_FEATURE_STORAGE16          0x04u /**< 16-bit storage buffers */
#define MLXMTP_FEATURE_STORAGE8           0x08u /**< 8-bit storage buffers */
#define MLXMTP_FEATURE_SUBGROUP_ARITH     0x10u /**< subgroup arithmetic operations in compute */
#define MLXMTP_FEATURE_COOPMAT_KHR        0x20u /**< VK_KHR_cooperative_matrix */
#define MLXMTP_FEATURE_COOPMAT_NV         0x40u /**< VK_NV_cooperative_matrix */
#define MLXMTP_FEATURE_BFLOAT16           0x80u /**< VK_KHR_shader_bfloat16 */
#define MLXMTP_FEATURE_PUSH_DESCRIPTOR   0x100u /**< VK_KHR_push_descriptor */
#define MLXMTP_FEATURE_INT64             0x200u /**< shaderInt64 */

/** What a device is and can do.  Filled by mlxmtp_instance_device_info. */
typedef struct mlxmtp_device_info {
    uint32_t struct_size;        /**< set by _init(); the library writes only this many bytes */
    uint32_t index;              /**< device index */
    char name[256];              /**< NUL-terminated device name */
    char driver[256];            /**< NUL-terminated driver name and version */
    uint32_t type;               /**< MLXMTP_DEVICE_* */
    uint32_t vendor_id;
    uint32_t device_id;
    uint32_t api_version;        /**< Vulkan version, VK_MAKE_API_VERSION encoding */
    uint64_t device_local_bytes; /**< size of the largest device-local heap */
    uint64_t max_allocation_size;      /**< maxMemoryAllocationSize */
    uint64_t max_storage_buffer_range; /**< maxStorageBufferRange */
    uint32_t max_allocation_count;     /**< maxMemoryAllocationCount */
    uint32_t subgroup_size;      /**< default subgroup size */
    uint32_t features;           /**< MLXMTP_FEATURE_* bits */
    uint32_t max_shared_memory;  /**< maxComputeSharedMemorySize in bytes */
} mlxmtp_device_info;

/** Sets struct_size and zeroes the rest.  Since: 0.1. */
MLXMTP_API void mlxmtp_device_info_init(mlxmtp_device_info *info);

/** Describes device `index`.
 *  @return MLXMTP_OK, MLXMTP_ERR_NO_DEVICE (index out of range), MLXMTP_ERR_INVALID_ARG.
 *  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_instance_device_info(const mlxmtp_instance *inst, uint32_t index,
                                                     mlxmtp_device_info *info);

/** Finds the first device whose name contains `name_substring` (case-insensitive).
 *  @return MLXMTP_OK with *index set, MLXMTP_ERR_NOT_FOUND.  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_instance_find_device(const mlxmtp_instance *inst,
                                                     const char *name_substring, uint32_t *index);

/** Compiles and runs the built-in kernel self-test on device `index`: every
 *  registered self-test kernel is checked against its scalar reference.
 *  `report` (may be NULL) receives a human-readable summary, valid until the
 *  next call on the instance.
 *  @return MLXMTP_OK when all passed, MLXMTP_ERR_INTERNAL when a kernel
 *          disagreed, or the device error.  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_instance_selftest(mlxmtp_instance *inst, uint32_t index,
                                                  const char **report);

/* @@SECTION quantize@@ (checkpoint I/O and quantizer) */

/* @@SECTION tokenizer@@ (tokenizer, chat templates, output parsing) */

/* ------------------------------------------------------------------------ */
/* Tokenizer                                                                  */
/* ------------------------------------------------------------------------ */

/** A tokenizer: byte-level BPE from `tokenizer.json` or SentencePiece from
 *  `tokenizer.model`, plus `tokenizer_config.json` (added and special tokens)
 *  and the chat template (`chat_template.jinja`, else tokenizer_config.json).
 *  Thread-safety: immutable after open, so mlxmtp_tokenizer_encode /
 *  _decode / _token_to_id and detokenizers may be used from several threads
 *  at once.  Functions that return strings owned by the tokenizer
 *  (mlxmtp_tokenizer_id_to_token, mlxmtp_tokenizer_render_chat) and the
 *  last-error text must not race with other calls on the same tokenizer. */
typedef struct mlxmtp_tokenizer mlxmtp_tokenizer;

/** Opens a tokenizer from a model or tokenizer directory, or from a single
 *  tokenizer.json / tokenizer.model file.
 *  @param path  directory or file, UTF-8, not NULL.
 *  @param out   receives the tokenizer (NULL on failure).
 *  @return MLXMTP_OK, MLXMTP_ERR_NOT_FOUND (no tokenizer file),
 *          MLXMTP_ERR_FORMAT (malformed file), MLXMTP_ERR_UNSUPPORTED (a
 *          tokenizer.json model / normalizer / pre-tokenizer this build does
 *          not implement), MLXMTP_ERR_IO.  Details: mlxmtp_last_error().
 *  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_tokenizer_open(const char *path, mlxmtp_tokenizer **out);

/** Destroys a tokenizer; NULL is a no-op.  Its detokenizers must be
 *  destroyed first.  Since: 0.1. */
MLXMTP_API void mlxmtp_tokenizer_destroy(mlxmtp_tokenizer *tok);

/** The message of the last failure of a call on `tok`; never NULL ("" when
 *  none).  Valid until the next call on `tok`.  Since: 0.1. */
MLXMTP_API const char *mlxmtp_tokenizer_last_error(const mlxmtp_tokenizer *tok);

/** Number of token ids (ids are 0 .. n-1, added tokens included; the model's
 *  embedding may be larger).  0 for NULL.  Since: 0.1. */
MLXMTP_API uint32_t mlxmtp_tokenizer_vocab_size(const mlxmtp_tokenizer *tok);

/** mlxmtp_tokenizer_encode flags. */
#define MLXMTP_TOKENIZE_NO_SPECIAL  0x1u /**< special added tokens in the text are plain text (non-special added tokens such as <think> still match) */
#define MLXMTP_TOKENIZE_ADD_SPECIAL 0x2u /**< add BOS / EOS when tokenizer_config.json asks (add_bos_token / add_eos_token) */

/** Encodes UTF-8 text into token ids, matching Hugging Face `tokenizers`
 *  (added tokens first, then normalizer, pre-tokenizer, BPE merges).
 *  @param text   UTF-8 text (need not be NUL-terminated); NULL only with len 0.
 *  @param len    bytes of text.
 *  @param flags  MLXMTP_TOKENIZE_* bits.
 *  @param ids    caller buffer for `capacity` ids; may be NULL when capacity is 0.
 *  @param n_ids  receives the number of ids (also when the buffer is too small).
 *  @return MLXMTP_OK, MLXMTP_ERR_BUFFER_TOO_SMALL (*n_ids says how many are
 *          needed; nothing useful was written), MLXMTP_ERR_INVALID_ARG (text
 *          is not valid UTF-8, NULL arguments, unknown flags).
 *  Thread-safe.  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_tokenizer_encode(const mlxmtp_tokenizer *tok, const char *text, size_t len,
                                                 uint32_t flags, int32_t *ids, size_t capacity, size_t *n_ids);

/** mlxmtp_tokenizer_decode / detokenizer flags. */
#define MLXMTP_DETOKENIZE_SKIP_SPECIAL 0x1u /**< leave out special added tokens (<|im_end|>, ...) */

/** Decodes ids to UTF-8 text.  Byte sequences that are not valid UTF-8
 *  become U+FFFD, as in the reference (errors="replace").
 *  @param text     caller buffer of `capacity` bytes; the text is
 *                  NUL-terminated when it fits (capacity >= *len + 1).
 *  @param len      receives the text length in bytes, without the NUL.
 *  @return MLXMTP_OK, MLXMTP_ERR_BUFFER_TOO_SMALL (*len is the length
 *          needed, without the NUL), MLXMTP_ERR_INVALID_ARG (an id outside the
 *          vocabulary, NULL arguments).
 *  Thread-safe.  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_tokenizer_decode(const mlxmtp_tokenizer *tok, const int32_t *ids, size_t n_ids,
                                                 uint32_t flags, char *text, size_t capacity, size_t *len);

/** Looks a token string up (exact vocabulary entry, e.g. "<|im_end|>").
 *  @return MLXMTP_OK with *id set, MLXMTP_ERR_NOT_FOUND.  Thread-safe.  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_tokenizer_token_to_id(const mlxmtp_tokenizer *tok, const char *token, int32_t *id);

/** The vocabulary string of `id` (byte-level BPE spelling, e.g. "Ġthe").
 *  @param token  receives a NUL-terminated string owned by the tokenizer,
 *                valid until the next call on it.
 *  @return MLXMTP_OK, MLXMTP_ERR_INVALID_ARG (id out of range).  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_tokenizer_id_to_token(mlxmtp_tokenizer *tok, int32_t id, const char **token);

/** Special tokens of mlxmtp_tokenizer_special_id (open enum). */
#define MLXMTP_TOKEN_BOS 0 /**< tokenizer_config.json bos_token */
#define MLXMTP_TOKEN_EOS 1 /**< tokenizer_config.json eos_token (Qwen: <|im_end|>) */
#define MLXMTP_TOKEN_PAD 2 /**< pad_token (Qwen: <|endoftext|>) */
#define MLXMTP_TOKEN_UNK 3 /**< unk_token */

/** The id of a special token, or -1 when the tokenizer has none.
 *  @param which  MLXMTP_TOKEN_*; unknown values give -1.  Thread-safe.  Since: 0.1. */
MLXMTP_API int32_t mlxmtp_tokenizer_special_id(const mlxmtp_tokenizer *tok, int32_t which);

/** 1 when `id` is a special added token (skipped by
 *  MLXMTP_DETOKENIZE_SKIP_SPECIAL), else 0.  Thread-safe.  Since: 0.1. */
MLXMTP_API int32_t mlxmtp_tokenizer_is_special(const mlxmtp_tokenizer *tok, int32_t id);

/* ---- chat templates ------------------------------------------------------ */

/** mlxmtp_chat_params flags. */
#define MLXMTP_CHAT_PARSE_TOOL_ARGUMENTS 0x1u /**< turn string tool_calls[].function.arguments holding a JSON object into the object (OpenAI clients send strings; Qwen templates iterate a mapping) */

/** Parameters of mlxmtp_tokenizer_render_chat. */
typedef struct mlxmtp_chat_params {
    uint32_t struct_size;        /**< = sizeof(mlxmtp_chat_params); set by _init() */
    uint32_t flags;              /**< MLXMTP_CHAT_* bits; unknown bits -> MLXMTP_ERR_INVALID_ARG */
    const char *template_source; /**< template text to use instead of the tokenizer's; NULL = the tokenizer's */
} mlxmtp_chat_params;

/** Fills `p` with defaults and sets struct_size.  Since: 0.1. */
MLXMTP_API void mlxmtp_chat_params_init(mlxmtp_chat_params *p);

/** Renders a conversation with the chat template, exactly as transformers'
 *  apply_chat_template(tokenize=False) does.
 *  @param input_json  NUL-terminated JSON object: "messages" (array, required;
 *                     content may be a string or a list of text / image /
 *                     video parts), "tools" (array), "add_generation_prompt"
 *                     (default false) and any further template variable
 *                     ("enable_thinking", "add_vision_id", "preserve_thinking", ...).
 *  @param params      NULL for defaults.
 *  @param text        receives the NUL-terminated text, owned by the tokenizer,
 *                     valid until the next call on it.
 *  @param len         receives its length in bytes (may be NULL).
 *  @return MLXMTP_OK, MLXMTP_ERR_INVALID_ARG (input is not a JSON object with
 *          a messages array), MLXMTP_ERR_TEMPLATE (the template failed to parse
 *          or raised an error; the message names the template line),
 *          MLXMTP_ERR_NOT_FOUND (no template).
 *  Not thread-safe on one tokenizer (the result is stored in it).  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_tokenizer_render_chat(mlxmtp_tokenizer *tok, const char *input_json,
                                                      const mlxmtp_chat_params *params, const char **text,
                                                      size_t *len);

/* ---- incremental detokenizer (streaming) --------------------------------- */

/** Streams ids to text without ever returning a broken UTF-8 sequence: bytes
 *  of an unfinished character are held until it completes.  The
 *  concatenation of all pushes and the final flush equals
 *  mlxmtp_tokenizer_decode of all the ids.  One detokenizer per stream; use
 *  it from one thread at a time.  It must not outlive its tokenizer. */
typedef struct mlxmtp_detokenizer mlxmtp_detokenizer;

/** Creates a detokenizer over `tok`.
 *  @param flags  MLXMTP_DETOKENIZE_* bits.
 *  @return MLXMTP_OK, MLXMTP_ERR_INVALID_ARG.  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_detokenizer_create(const mlxmtp_tokenizer *tok, uint32_t flags,
                                                   mlxmtp_detokenizer **out);

/** Destroys a detokenizer; NULL is a no-op.  Since: 0.1. */
MLXMTP_API void mlxmtp_detokenizer_destroy(mlxmtp_detokenizer *d);

/** The message of the last failure of a call on `d`; never NULL.  Since: 0.1. */
MLXMTP_API const char *mlxmtp_detokenizer_last_error(const mlxmtp_detokenizer *d);

/** Pushes ids and returns the text completed by them (possibly empty).
 *  @param text  receives NUL-terminated text owned by `d`, valid until the
 *               next call on it.
 *  @param len   receives its length (may be NULL).
 *  @return MLXMTP_OK, MLXMTP_ERR_INVALID_ARG (an id outside the vocabulary:
 *          the ids before it were consumed and their text is returned by the
 *          next successful call).  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_detokenizer_push(mlxmtp_detokenizer *d, const int32_t *ids, size_t n_ids,
                                                 const char **text, size_t *len);

/** Ends the stream: returns the held-back bytes (an unfinished character
 *  becomes U+FFFD) and resets the detokenizer for a new stream.
 *  Same ownership as mlxmtp_detokenizer_push.  @return MLXMTP_OK.  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_detokenizer_flush(mlxmtp_detokenizer *d, const char **text, size_t *len);

/* ---- output parsing: reasoning and tool calls ----------------------------- */

/** Splits generated text into reasoning (between <think> and </think>),
 *  content, and tool calls in both Qwen formats (JSON inside
 *  <tool_call>...</tool_call>, and the XML form
 *  <tool_call><function=NAME><parameter=P>VALUE</parameter></function></tool_call>
 *  whose values are typed by the tool's JSON schema when given: integer,
 *  number, boolean, null, array and object values are parsed, anything else
 *  stays a string).  Works incrementally: text may be fed in any split,
 *  even inside a UTF-8 character, with the same result as one feed.
 *  Unparseable tool-call blocks are kept as content, never dropped.
 *  Whitespace at the edges of reasoning and content segments is trimmed
 *  unless MLXMTP_PARSER_KEEP_WHITESPACE.  One thread at a time. */
typedef struct mlxmtp_parser mlxmtp_parser;

/** mlxmtp_parser_params flags. */
#define MLXMTP_PARSER_START_IN_REASONING 0x1u /**< generation starts inside <think> (the prompt opened it) */
#define MLXMTP_PARSER_KEEP_WHITESPACE    0x2u /**< do not trim whitespace at the edges of segments */

/** Parameters of mlxmtp_parser_create. */
typedef struct mlxmtp_parser_params {
    uint32_t struct_size;   /**< = sizeof(mlxmtp_parser_params); set by _init() */
    uint32_t flags;         /**< MLXMTP_PARSER_* bits; unknown bits -> MLXMTP_ERR_INVALID_ARG */
    const char *tools_json; /**< JSON array of tools (as passed to the chat template), or NULL */
    const char *prompt;     /**< the rendered prompt, or NULL: when given, the parser starts in
                                 reasoning iff the prompt leaves a <think> block open
                                 (so enable_thinking=false prompts start in content) */
} mlxmtp_parser_params;

/** Fills `p` with defaults and sets struct_size.  Since: 0.1. */
MLXMTP_API void mlxmtp_parser_params_init(mlxmtp_parser_params *p);

/** Creates a parser.  `params` may be NULL (defaults: starts in content).
 *  @return MLXMTP_OK, MLXMTP_ERR_INVALID_ARG (tools_json is not a JSON array,
 *          unknown flags).  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_parser_create(const mlxmtp_parser_params *params, mlxmtp_parser **out);

/** Destroys a parser; NULL is a no-op.  Since: 0.1. */
MLXMTP_API void mlxmtp_parser_destroy(mlxmtp_parser *p);

/** The message of the last failure of a call on `p`; never NULL.  Since: 0.1. */
MLXMTP_API const char *mlxmtp_parser_last_error(const mlxmtp_parser *p);

/** What one feed / finish produced.  Pointers are owned by the parser and
 *  valid until the next call on it; strings are NUL-terminated UTF-8. */
typedef struct mlxmtp_parser_delta {
    uint32_t struct_size;        /**< set by _init(); the library writes only this many bytes */
    uint32_t n_tool_calls;       /**< tool calls completed so far (all feeds) */
    const char *reasoning;       /**< new reasoning text ("" if none) */
    size_t reasoning_len;
    const char *content;         /**< new content text ("" if none) */
    size_t content_len;
    uint32_t first_new_tool_call; /**< index of the first call completed by this call; calls
                                       first_new_tool_call .. n_tool_calls-1 are new */
    uint32_t n_invalid_tool_calls; /**< unparseable <tool_call> blocks so far (kept as content) */
} mlxmtp_parser_delta;

/** Sets struct_size and zeroes the rest.  Since: 0.1. */
MLXMTP_API void mlxmtp_parser_delta_init(mlxmtp_parser_delta *d);

/** Feeds generated text.  `delta` (may be NULL) receives what is new.
 *  @return MLXMTP_OK, MLXMTP_ERR_BAD_STATE (after finish, before reset),
 *          MLXMTP_ERR_INVALID_ARG.  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_parser_feed(mlxmtp_parser *p, const char *text, size_t len,
                                            mlxmtp_parser_delta *delta);

/** Ends the generation: flushes held-back text (partial tags become text;
 *  an unclosed <tool_call> that still parses becomes a call, otherwise its
 *  text becomes content).  Further feeds fail until mlxmtp_parser_reset.
 *  @return MLXMTP_OK.  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_parser_finish(mlxmtp_parser *p, mlxmtp_parser_delta *delta);

/** Starts over with the same parameters.  Since: 0.1. */
MLXMTP_API void mlxmtp_parser_reset(mlxmtp_parser *p);

/** Tool call `index` (0 .. n_tool_calls-1).
 *  @param name       receives the function name (owned by the parser, valid until reset/destroy).
 *  @param arguments  receives the arguments as a JSON object text (same ownership).
 *  @return MLXMTP_OK, MLXMTP_ERR_INVALID_ARG (index out of range).  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_parser_tool_call(const mlxmtp_parser *p, uint32_t index, const char **name,
                                                 const char **arguments);

/** Everything parsed so far as an OpenAI-style assistant message:
 *  {"reasoning_content": s|null, "content": s|null, "tool_calls": [{"type":
 *  "function", "function": {"name": s, "arguments": "<JSON text>"}}, ...]}.
 *  @param json  receives NUL-terminated JSON owned by the parser, valid until
 *               the next call on it.
 *  @return MLXMTP_OK.  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_parser_result_json(mlxmtp_parser *p, const char **json);

/* @@SECTION model@@ (models, sessions, generation) */

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MLXMTP_H */
