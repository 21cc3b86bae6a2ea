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
/** VK_NV_cooperative_matrix (with the Vulkan memory model) is enabled on
 *  devices that have it unless MLXMTP_INSTANCE_NO_TENSOR_CORES is given; models
 *  need it for tensor cores (MLXMTP_MODEL_NO_TENSOR_CORES).  This flag asks for
 *  the default and is kept for hosts written before it was one.  Since: 0.1. */
#define MLXMTP_INSTANCE_TENSOR_CORES 0x2u
/** Leave VK_NV_cooperative_matrix off (no model of the instance then uses
 *  tensor cores).  Not with MLXMTP_INSTANCE_TENSOR_CORES.  Since: 0.1. */
#define MLXMTP_INSTANCE_NO_TENSOR_CORES 0x4u

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

/** Quantization modes (mlxmtp_quantize_params.mode; open enum).
 *  Both use groups of 32 elements with one E8M0 (power-of-two) scale byte and
 *  no biases, exactly as MLX's mx.quantize(mode="mxfp4" / "mxfp8"). */
#define MLXMTP_QUANT_MXFP4 0 /**< 4-bit E2M1 elements (default) */
#define MLXMTP_QUANT_MXFP8 1 /**< 8-bit E4M3 elements */

/** Scale rules (mlxmtp_quantize_params.scale_rule; open enum). */
#define MLXMTP_SCALE_RULE_MLX   0 /**< round(log2(amax/max)) half away from zero: MLX 0.29.4-0.32.x Metal (default) */
#define MLXMTP_SCALE_RULE_ROUND_UP 1 /**< ceil(log2(amax/max)): MLX after PR #4353, never saturates the group maximum */

/** mlxmtp_quantize_params.flags bits. */
#define MLXMTP_QUANTIZE_FORCE  0x1u /**< replace a non-empty output directory (atomically, once the new one is whole) */
#define MLXMTP_QUANTIZE_VERIFY 0x2u /**< dequantize every quantized tensor and report cosine / relative error */

/** Summary of a quantization run, filled by mlxmtp_quantize_file when
 *  mlxmtp_quantize_params.stats is set.  Call mlxmtp_quantize_stats_init()
 *  first; the library writes at most struct_size bytes. */
typedef struct mlxmtp_quantize_stats {
    uint32_t struct_size;      /**< set by _init() */
    uint32_t n_shards;         /**< output safetensors files */
    uint64_t n_tensors;        /**< source tensors */
    uint64_t n_quantized;      /**< source tensors that were quantized */
    uint64_t n_kept;           /**< source tensors kept in their source dtype */
    uint64_t src_bytes;        /**< tensor bytes read from the source */
    uint64_t dst_bytes;        /**< bytes of the output safetensors files */
    double seconds;            /**< wall time of the whole call */
    uint32_t verified;         /**< 1 when MLXMTP_QUANTIZE_VERIFY ran; the fields below are then valid */
    uint32_t threads;          /**< worker threads used */
    double cos_mean;           /**< mean over quantized tensors of cos(source, dequantized) */
    double cos_min;            /**< minimum of the same */
    double rel_err_mean;       /**< mean of ||source - dequantized|| / ||source|| */
    double rel_err_max;        /**< maximum of the same */
} mlxmtp_quantize_stats;

/** Sets struct_size and zeroes the rest.  Since: 0.1. */
MLXMTP_API void mlxmtp_quantize_stats_init(mlxmtp_quantize_stats *stats);

/** Event kinds delivered to mlxmtp_quantize_progress_fn. */
#define MLXMTP_QUANTIZE_EVENT_PROGRESS 0 /**< bytes_done / bytes_total of the current phase */
#define MLXMTP_QUANTIZE_EVENT_TENSOR   1 /**< one source tensor's outcome (after the run, in name order) */

/** Phases (mlxmtp_quantize_event.phase). */
#define MLXMTP_QUANTIZE_PHASE_QUANTIZE 0
#define MLXMTP_QUANTIZE_PHASE_VERIFY   1

/** What happened to one tensor, or how far the run is.  Valid only during the callback. */
typedef struct mlxmtp_quantize_event {
    uint32_t struct_size;      /**< sizeof(mlxmtp_quantize_event) of the library */
    uint32_t kind;             /**< MLXMTP_QUANTIZE_EVENT_* */
    uint32_t phase;            /**< PROGRESS: MLXMTP_QUANTIZE_PHASE_* */
    uint32_t quantized;        /**< TENSOR: 1 quantized, 0 kept in its source dtype */
    uint64_t bytes_done;       /**< PROGRESS: source bytes processed in this phase */
    uint64_t bytes_total;      /**< PROGRESS: source bytes of this phase */
    const char *tensor;        /**< TENSOR: source tensor name */
    const char *dtype;         /**< TENSOR: source dtype ("BF16", "F32", ...) */
    const char *reason;        /**< TENSOR: "quantized" or why kept: "vision", "mtp", "recurrent", "norm",
                                    "not-2d-weight", "not-float", "unaligned" */
    const int64_t *shape;      /**< TENSOR: source shape */
    uint32_t ndim;             /**< TENSOR: entries in shape */
    uint32_t verified;         /**< TENSOR: 1 when cosine / rel_err are valid */
    double cosine;             /**< TENSOR: cos(source, dequantized) */
    double rel_err;            /**< TENSOR: ||source - dequantized|| / ||source|| */
} mlxmtp_quantize_event;

/** Progress / report callback of mlxmtp_quantize_file.  Runs on the calling
 *  thread, about every 100 ms during each phase and once per tensor at the
 *  end.  Return 0 to continue; non-zero during PROGRESS aborts the run
 *  (MLXMTP_ERR_ABORTED; the output path is left untouched), during TENSOR
 *  events (the output is already complete) it only stops the report.
 *  Must not call into the library. */
typedef int32_t (*mlxmtp_quantize_progress_fn)(const mlxmtp_quantize_event *event, void *user_data);

/** Parameters of mlxmtp_quantize_file. */
typedef struct mlxmtp_quantize_params {
    uint32_t struct_size;      /**< = sizeof(mlxmtp_quantize_params); set by _init() */
    uint32_t mode;             /**< MLXMTP_QUANT_*; default MLXMTP_QUANT_MXFP4 */
    uint32_t scale_rule;       /**< MLXMTP_SCALE_RULE_*; default MLXMTP_SCALE_RULE_MLX */
    uint32_t flags;            /**< MLXMTP_QUANTIZE_* bits; unknown bits -> MLXMTP_ERR_INVALID_ARG */
    uint32_t threads;          /**< worker threads; 0 = one per CPU.  The output does not depend on it. */
    uint32_t reserved0;        /**< must be 0 */
    uint64_t shard_size;       /**< maximum tensor bytes per output file; 0 = 5 GiB (MLX's default) */
    mlxmtp_quantize_stats *stats; /**< optional out: the run's summary (set its struct_size with _init()) */
} mlxmtp_quantize_params;

/** Fills `p` with defaults (MXFP4, MLX scale rule, no flags, all CPUs, 5 GiB
 *  shards, no stats) and sets struct_size.  Since: 0.1. */
MLXMTP_API void mlxmtp_quantize_params_init(mlxmtp_quantize_params *p);

/** Quantizes the safetensors checkpoint in `src_dir` (model.safetensors or
 *  model.safetensors.index.json + shards, and config.json) to MXFP4 or MXFP8
 *  and writes an MLX-loadable checkpoint to `dst_dir`.
 *
 *  Tensor level, no model instantiation: 2-D floating-point ".weight" tensors
 *  whose last dimension is a multiple of 32 become `<module>.weight` (U32,
 *  packed) + `<module>.scales` (U8, E8M0); the vision tower and multimodal
 *  projector/merger, every MTP tensor, the recurrent parameters (A_log,
 *  dt_bias, conv1d), norms and every other tensor are copied unchanged.
 *  config.json gets "quantization" and "quantization_config" blocks
 *  (group_size, bits, mode); text_config.mtp_num_hidden_layers becomes 0 when
 *  the source has no MTP tensors; tokenizer, chat template, preprocessor and
 *  generation files are copied.  The bytes are identical for any thread count.
 *
 *  Safety: the output appears complete in one step (a temporary sibling
 *  directory renamed into place, every file fsynced); on failure the output
 *  path is left as it was.  `dst_dir`'s parent must exist.  The output must
 *  not be, contain or lie inside the source.  An existing non-empty output is
 *  replaced only with MLXMTP_QUANTIZE_FORCE.  Free disk space is checked
 *  first.  A tensor to quantize that contains NaN or Inf, or values so large
 *  that their scale is past what the engine runs (about 2^116 for MXFP4), is
 *  an error.
 *
 *  @param src_dir      source checkpoint directory (not modified).
 *  @param dst_dir      output directory.
 *  @param params       options; NULL = defaults.
 *  @param progress_cb  optional progress / per-tensor report callback (may be NULL).
 *  @param user_data    passed to progress_cb.
 *  @return MLXMTP_OK; MLXMTP_ERR_INVALID_ARG (bad params, output aliases the
 *          source), MLXMTP_ERR_EXISTS (non-empty output without FORCE),
 *          MLXMTP_ERR_NOT_FOUND, MLXMTP_ERR_FORMAT (malformed input, NaN/Inf, scale range),
 *          MLXMTP_ERR_CONFIG, MLXMTP_ERR_NO_SPACE, MLXMTP_ERR_IO,
 *          MLXMTP_ERR_ABORTED; mlxmtp_last_error() explains.
 *  Thread-safety: may run concurrently with any other call (for different
 *  output directories).  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_quantize_file(const char *src_dir, const char *dst_dir,
                                              const mlxmtp_quantize_params *params,
                                              mlxmtp_quantize_progress_fn progress_cb, void *user_data);


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

/* ------------------------------------------------------------------------ */
/* Models                                                                     */
/* ------------------------------------------------------------------------ */

/** Immutable weights on one Vulkan device, plus config.  Thread-safe: any
 *  number of sessions on any threads may share one model. */
typedef struct mlxmtp_model mlxmtp_model;

/** Progress callback for long operations: `fraction` in [0, 1], `stage` a short
 *  description.  Return 0 to continue, non-zero to abort (the operation then
 *  fails with MLXMTP_ERR_ABORTED).  Runs on the calling thread. */
typedef int32_t (*mlxmtp_progress_fn)(double fraction, const char *stage, void *user_data);

/** Model flags. */
#define MLXMTP_MODEL_SYNTHETIC 0x1u /**< `path` is a config.json: random weights of its shapes, made on the device */
/** Tensor cores for MXFP4 and bf16 (the default): where the device allows it
 *  (an instance without MLXMTP_INSTANCE_NO_TENSOR_CORES, VK_NV_cooperative_matrix
 *  with 16x8x16 fp16 multiply-adds, and a fragment layout the library's probe
 *  accepts) the model holds its MXFP4 and bf16 matrices repacked for the
 *  tensor cores instead of in the standard layout (MXFP4: the same memory;
 *  bf16: fp16 elements times a power of two per 32 elements, 1/64 more, and
 *  exact for every bf16 value within 2^-31 of its block's largest; a tied
 *  embedding keeps both), and decode, MTP verify and prefill products read
 *  them.  Measured on an H100 (27B shape, 2026-12-06): MXFP4: a decoded token
 *  ~11% faster than without, verifying 2..8 tokens 1.05-1.3x one decoded
 *  token (1.2-2.9x without), so MTP decoding ~1.5x faster (k = 3..4) and
 *  prefill ~2x; bf16: a decoded token within 1% of the standard kernels,
 *  verifying 2..9 tokens 1.04-1.15x one (1.04-2.2x without), so MTP decoding
 *  ~1.2x faster (k = 4).
 *  Every session of the model runs the same kernels, so MTP greedy output
 *  equals plain greedy output of that model.  Elsewhere the model opens in
 *  the standard layout; mlxmtp_model_info.tensor_cores says which.  This flag
 *  asks for the default and is kept for hosts written before it was one.
 *  Since: 0.1. */
#define MLXMTP_MODEL_TENSOR_CORES 0x2u
/** The standard MXFP4 and bf16 layouts and kernels even where tensor cores are
 *  available (A/B runs, or bits equal to devices without them).  Not with
 *  MLXMTP_MODEL_TENSOR_CORES.  Since: 0.1. */
#define MLXMTP_MODEL_NO_TENSOR_CORES 0x4u
/** Tensor-core products read their activations x as two fp16 halves (hi and
 *  lo = x - hi: 22 significant bits, within ~4e-7 of the fp32 path) instead
 *  of x rounded to fp16 (11 bits, the default: relative error <= 2^-11 per
 *  element, far below MXFP4's own rounding of the weights; MLX runs fp16
 *  activations, llama.cpp 8-bit ones).  The default puts 8 tokens in one
 *  tensor-core multiply-add where halves fit 4, so an MTP verify of 5..8
 *  tokens costs 1.15-1.3 decoded tokens instead of 1.47-1.65 (H100, 27B
 *  shape); decode speed is the same.  Either way verify gives decode's bits,
 *  so MTP greedy output equals plain greedy output.  No effect without
 *  tensor cores (mlxmtp_model_info.tensor_core_x_bits says which).
 *  Since: 0.1. */
#define MLXMTP_MODEL_PRECISE_ACTIVATIONS 0x8u

/** Weight formats (open enum). */
#define MLXMTP_FORMAT_BF16  0
#define MLXMTP_FORMAT_MXFP4 1
#define MLXMTP_FORMAT_MXFP8 2
#define MLXMTP_FORMAT_F32   3

/** Parameters of mlxmtp_model_open. */
typedef struct mlxmtp_model_params {
    uint32_t struct_size;        /**< = sizeof(mlxmtp_model_params); set by _init() */
    uint32_t flags;              /**< MLXMTP_MODEL_* bits */
    mlxmtp_instance *instance;   /**< instance to use; NULL = the model makes and owns a private one */
    uint32_t device_index;       /**< device on that instance */
    uint32_t synthetic_format;   /**< MLXMTP_FORMAT_* of the projection matrices (synthetic mode) */
    uint64_t synthetic_seed;     /**< seed of the synthetic weights */
    mlxmtp_progress_fn progress_cb; /**< optional loading progress */
    void *progress_user_data;
} mlxmtp_model_params;

/** Fills `p` with defaults and sets struct_size.  Since: 0.1. */
MLXMTP_API void mlxmtp_model_params_init(mlxmtp_model_params *p);

/** Opens a model: reads `path`/config.json and the safetensors weights (bf16,
 *  or the MXFP4 / MXFP8 output of mlxmtp_quantize_file), checks every expected
 *  tensor's name and shape, and uploads them to the device.  With
 *  MLXMTP_MODEL_SYNTHETIC, `path` is a config.json file and the weights are
 *  random (for benchmarks).  `params` may be NULL.  When params->instance is
 *  set it must outlive the model.
 *  @return MLXMTP_OK, MLXMTP_ERR_NOT_FOUND (missing file or tensor),
 *          MLXMTP_ERR_FORMAT / MLXMTP_ERR_CONFIG (malformed checkpoint),
 *          MLXMTP_ERR_DEVICE_OUT_OF_MEMORY.  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_model_open(const char *path, const mlxmtp_model_params *params,
                                           mlxmtp_model **out);

/** Destroys a model; NULL is a no-op.  Its sessions must be destroyed first.
 *  Since: 0.1. */
MLXMTP_API void mlxmtp_model_destroy(mlxmtp_model *model);

/** Message of the last failed call on this model; never NULL.  Since: 0.1. */
MLXMTP_API const char *mlxmtp_model_last_error(const mlxmtp_model *model);

/** What a model is.  Filled by mlxmtp_model_get_info. */
typedef struct mlxmtp_model_info {
    uint32_t struct_size;          /**< set by _init(); the library writes only this many bytes */
    uint32_t vocab_size;           /**< logit rows (may include padding rows) */
    uint32_t usable_vocab;         /**< ids below this can be produced */
    uint32_t hidden_size;
    uint32_t num_layers;
    uint32_t num_linear_layers;    /**< Gated DeltaNet layers */
    uint32_t max_context;          /**< max_position_embeddings */
    uint32_t has_mtp;              /**< 1 when the checkpoint has an MTP head */
    uint32_t weight_format;        /**< MLXMTP_FORMAT_* of the projection matrices */
    uint32_t num_eos;              /**< entries used in eos_ids */
    int32_t eos_ids[8];            /**< end-of-sequence ids (config.json and generation_config.json) */
    uint64_t device_bytes;         /**< device memory holding the weights */
    uint64_t decode_weight_bytes;  /**< weight bytes one decoded token reads */
    char device_name[256];
    uint32_t tensor_cores;         /**< 1 when MXFP4 and bf16 products run on tensor cores (MLXMTP_MODEL_TENSOR_CORES) */
    uint32_t tensor_core_x_bits;   /**< significant bits of x in those products: 11 (the default), 22
                                        (MLXMTP_MODEL_PRECISE_ACTIVATIONS); 0 without tensor cores */
} mlxmtp_model_info;

/** Sets struct_size and zeroes the rest.  Since: 0.1. */
MLXMTP_API void mlxmtp_model_info_init(mlxmtp_model_info *info);
/** Describes a model.  @return MLXMTP_OK, MLXMTP_ERR_INVALID_ARG.  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_model_get_info(const mlxmtp_model *model, mlxmtp_model_info *info);

/** A new handle on the model's tokenizer (tokenizer.json or tokenizer.model
 *  of its directory), sharing it; destroy it with mlxmtp_tokenizer_destroy
 *  (it may outlive the model).
 *  @return MLXMTP_OK, MLXMTP_ERR_NOT_FOUND (no tokenizer shipped).  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_model_tokenizer(const mlxmtp_model *model, mlxmtp_tokenizer **out);

/* ------------------------------------------------------------------------ */
/* Sessions and generation                                                    */
/* ------------------------------------------------------------------------ */

/** One conversation: KV cache, recurrent state, rollback snapshots, sampler.
 *  Not thread-safe: use each session from one thread at a time. */
typedef struct mlxmtp_session mlxmtp_session;

/** Abort callback, polled between GPU submissions: return non-zero to stop
 *  (the call then fails with MLXMTP_ERR_ABORTED).  Runs on the calling thread. */
typedef int32_t (*mlxmtp_abort_fn)(void *user_data);

/** Parameters of mlxmtp_session_create. */
typedef struct mlxmtp_session_params {
    uint32_t struct_size;      /**< = sizeof(mlxmtp_session_params); set by _init() */
    uint32_t flags;            /**< reserved, 0 */
    uint32_t n_ctx;            /**< context limit in tokens; 0 = min(model maximum, 4096) */
    uint32_t snapshot_window;  /**< tokens that mlxmtp_rollback undoes without recomputation; default 16 */
    uint32_t max_batch;        /**< tokens per forward chunk during prefill, 1..4096; default 256 (scratch memory grows with it; evaluations returning every row's logits use chunks of at most 64) */
    uint32_t reserved0;
    mlxmtp_abort_fn abort_cb;  /**< optional */
    void *abort_user_data;
    uint32_t decoder;          /**< MLXMTP_DECODER_*; default MLXMTP_DECODER_VANILLA.  Since: 0.1 */
    uint32_t draft_tokens;     /**< MTP drafts per round, 1..8 (<= snapshot_window); default 3.  Since: 0.1 */
} mlxmtp_session_params;

/** Decoders (mlxmtp_session_params.decoder). */
#define MLXMTP_DECODER_VANILLA 0 /**< one backbone pass per token */
#define MLXMTP_DECODER_MTP     1 /**< the model's MTP head drafts, one backbone pass verifies
                                      (output distribution identical to vanilla; greedy output identical) */

/** Fills `p` with defaults and sets struct_size.  Since: 0.1. */
MLXMTP_API void mlxmtp_session_params_init(mlxmtp_session_params *p);

/** Creates a session on a model.  `params` may be NULL.
 *  @return MLXMTP_OK, MLXMTP_ERR_DEVICE_OUT_OF_MEMORY, MLXMTP_ERR_INVALID_ARG.  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_session_create(mlxmtp_model *model, const mlxmtp_session_params *params,
                                               mlxmtp_session **out);
/** Destroys a session; NULL is a no-op.  Since: 0.1. */
MLXMTP_API void mlxmtp_session_destroy(mlxmtp_session *session);
/** Message of the last failed call on this session; never NULL.  Since: 0.1. */
MLXMTP_API const char *mlxmtp_session_last_error(const mlxmtp_session *session);

/** Tokens in the session (evaluated or pending).  Since: 0.1. */
MLXMTP_API uint32_t mlxmtp_session_position(const mlxmtp_session *session);

/** Appends `n` prompt tokens and evaluates them; the next mlxmtp_generate_step
 *  samples after them.  Also resets the generated-token count.
 *  @return MLXMTP_OK, MLXMTP_ERR_CONTEXT_FULL, MLXMTP_ERR_INVALID_ARG (id
 *          outside the vocabulary), MLXMTP_ERR_ABORTED.  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_session_prefill(mlxmtp_session *session, const int32_t *ids, size_t n);

/** mlxmtp_session_eval flags. */
#define MLXMTP_EVAL_ALL_LOGITS 0x1u /**< keep the logits of every evaluated token, not only the last */

/** Like mlxmtp_session_prefill, with flags; then mlxmtp_session_logits reads
 *  the logits.  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_session_eval(mlxmtp_session *session, const int32_t *ids, size_t n,
                                             uint32_t flags);

/** The logits of the last evaluation: `*rows` rows of `*vocab` floats,
 *  row-major, owned by the session and valid until its next call.
 *  @return MLXMTP_OK, MLXMTP_ERR_BAD_STATE (no logits kept).  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_session_logits(const mlxmtp_session *session, const float **data, uint32_t *rows,
                                               uint32_t *vocab);

/** Why generation stopped (open enum). */
#define MLXMTP_FINISH_NONE   0 /**< not finished */
#define MLXMTP_FINISH_EOS    1 /**< an end-of-sequence id was produced */
#define MLXMTP_FINISH_STOP   2 /**< a stop sequence was completed */
#define MLXMTP_FINISH_LENGTH 3 /**< max_tokens or the context limit was reached */

/** Sampling and stopping settings of mlxmtp_generate_step. */
typedef struct mlxmtp_generate_params {
    uint32_t struct_size;         /**< = sizeof(mlxmtp_generate_params); set by _init() */
    uint32_t max_tokens;          /**< generated tokens since the last prefill; 0 = until the context is full */
    float temperature;            /**< 0 = greedy (default) */
    int32_t top_k;                /**< 0 = off */
    float top_p;                  /**< 1 = off (default) */
    float min_p;                  /**< 0 = off */
    float repetition_penalty;     /**< 1 = off; HF rule over the ids in the context */
    float presence_penalty;       /**< 0 = off; subtracted from ids in the context */
    uint64_t seed;                /**< sampling seed; identical seeds reproduce identical output */
    int32_t draft_tokens;         /**< MTP sessions: drafts this step, 0..8; -1 = the session's (default).  Since: 0.1 */
    uint32_t reserved1;
} mlxmtp_generate_params;

/** Fills `p` with defaults (greedy) and sets struct_size.  Since: 0.1. */
MLXMTP_API void mlxmtp_generate_params_init(mlxmtp_generate_params *p);

/** Most tokens one mlxmtp_generate_step returns. */
#define MLXMTP_MAX_STEP_TOKENS 16

/** What one step produced. */
typedef struct mlxmtp_step_result {
    uint32_t struct_size;       /**< set by _init() */
    uint32_t n_tokens;          /**< tokens in `tokens` (0 when already finished) */
    int32_t tokens[MLXMTP_MAX_STEP_TOKENS];
    uint32_t finish_reason;     /**< MLXMTP_FINISH_* */
    uint32_t reserved0;
} mlxmtp_step_result;

/** Sets struct_size and zeroes the rest.  Since: 0.1. */
MLXMTP_API void mlxmtp_step_result_init(mlxmtp_step_result *r);

/** Produces the next token(s) after the session's tokens.  Ids the tokenizer
 *  does not define (padded vocabulary rows) are never produced.  A produced
 *  EOS id or completed stop sequence ends generation exactly there.
 *  Vanilla sessions return one token.  MTP sessions run one speculative round
 *  (k drafts, one verify of k+1 tokens) and return 1..k+1 tokens: the accepted
 *  drafts and the backbone's own token (the first step after a prefill returns
 *  the backbone's token alone; k shrinks near max_tokens and the context end).
 *  `params` may be NULL (greedy).
 *  @return MLXMTP_OK, MLXMTP_ERR_BAD_STATE (nothing prefilled),
 *          MLXMTP_ERR_ABORTED, MLXMTP_ERR_DEVICE_LOST.  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_generate_step(mlxmtp_session *session, const mlxmtp_generate_params *params,
                                              mlxmtp_step_result *out);

/** Removes the last `n` tokens.  Within the snapshot window (see
 *  mlxmtp_session_params) this restores saved state without recomputation;
 *  further back the remaining tokens are re-evaluated.  Either way the session
 *  then behaves exactly as a fresh one fed the shorter sequence.
 *  @return MLXMTP_OK, MLXMTP_ERR_INVALID_ARG (n larger than the position).
 *  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_rollback(mlxmtp_session *session, uint32_t n);

/** Speculative decoding statistics of a session (mlxmtp_session_get_stats). */
typedef struct mlxmtp_session_stats {
    uint32_t struct_size;        /**< = sizeof(mlxmtp_session_stats); set by _init() */
    uint32_t decoder;            /**< MLXMTP_DECODER_* */
    uint32_t draft_tokens;       /**< the session's k */
    uint32_t n_positions;        /**< entries of acceptance_per_position in use (largest k used, <= 8) */
    uint64_t rounds;             /**< speculative rounds (verify passes) */
    uint64_t drafted;            /**< draft tokens proposed */
    uint64_t accepted;           /**< draft tokens accepted */
    double acceptance_rate;      /**< accepted / drafted (0 when nothing was drafted) */
    double tokens_per_round;     /**< (accepted + rounds) / rounds: tokens per verify, the backbone's own included */
    double acceptance_per_position[8]; /**< [i]: accepted at draft i / rounds that reached draft i */
    uint64_t snapshot_bytes;     /**< device memory of the rollback snapshots (recurrent + conv state, hidden rows) */
    uint64_t state_bytes;        /**< all per-session device state: KV caches (MTP included), recurrent state, snapshots */
} mlxmtp_session_stats;

/** Sets struct_size and zeroes the rest.  Since: 0.1. */
MLXMTP_API void mlxmtp_session_stats_init(mlxmtp_session_stats *stats);

/** Statistics since the session's creation or the last
 *  mlxmtp_session_reset_stats.  @return MLXMTP_OK, MLXMTP_ERR_INVALID_ARG.
 *  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_session_get_stats(const mlxmtp_session *session, mlxmtp_session_stats *stats);

/** Zeroes the statistics counters.  Since: 0.1. */
MLXMTP_API void mlxmtp_session_reset_stats(mlxmtp_session *session);

/** Teacher-forced MTP head logits (MTP sessions only).  EMPTIES the session,
 *  evaluates `ids` (n >= 2) and writes, for each of the `n_positions` entries
 *  of `positions` (each < n-1), the MTP logits of that row: row t combines the
 *  backbone's post-norm hidden at t with ids[t+1] and predicts ids[t+2].
 *  `out` receives n_positions x vocab_size floats (mlxmtp_model_info.vocab_size).
 *  The session is left holding `ids` (greedy generation may continue after them; prefill before sampling).
 *  @return MLXMTP_OK, MLXMTP_ERR_INVALID_ARG, MLXMTP_ERR_BAD_STATE (not an MTP
 *          session), MLXMTP_ERR_CONTEXT_FULL.  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_session_mtp_logits(mlxmtp_session *session, const int32_t *ids, size_t n,
                                                   const uint32_t *positions, size_t n_positions, float *out);

/** Adds a stop sequence of `n` ids: generation ends once the session's tokens
 *  end with it.  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_session_add_stop_sequence(mlxmtp_session *session, const int32_t *ids, size_t n);
/** Removes every stop sequence.  Since: 0.1. */
MLXMTP_API void mlxmtp_session_clear_stop_sequences(mlxmtp_session *session);

/* ------------------------------------------------------------------------ */
/* Benchmarks                                                                 */
/* ------------------------------------------------------------------------ */

/** Runs the benchmark harness on a model (what `mlxmtp bench` runs): each arm
 *  (vanilla, MTP with k drafts) on the same prompts and settings, reporting
 *  time to first token, prefill and decode tok/s (median / min / max over
 *  `repeat` runs after `warmup` runs), acceptance per draft position, tokens
 *  per round, output match against the vanilla arm, peak device memory and,
 *  with "ceiling": true, decode bandwidth as a fraction of the device's
 *  measured copy ceiling.
 *  @param options_json  NUL-terminated JSON object (NULL = defaults):
 *         "arms" (["vanilla", "mtp:1", ...]), "max_tokens", "repeat",
 *         "warmup", "ceiling", "temperature", "seed", and prompts: "prompts"
 *         ([{"name", "text" | "ids"}]), "prompt_lengths" (random ids of these
 *         lengths) or "prompt_set" ("default", "chat", "code", "long").
 *         docs/performance.md has the details.
 *  @param report_json   receives the report (JSON, schema "mlxmtp-bench/1",
 *         docs/bench-report.schema.json), owned by the model and valid until
 *         the next mlxmtp_bench_run on it.
 *  @return MLXMTP_OK, MLXMTP_ERR_INVALID_ARG (bad options),
 *          MLXMTP_ERR_UNSUPPORTED (an MTP arm on a model without MTP),
 *          MLXMTP_ERR_ABORTED (the progress callback asked to stop).
 *  Thread-safety: one benchmark at a time per model (others wait).  Since: 0.1. */
MLXMTP_API mlxmtp_status mlxmtp_bench_run(mlxmtp_model *model, const char *options_json,
                                          mlxmtp_progress_fn progress_cb, void *user_data, const char **report_json);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MLXMTP_H */
