/*
 * llmhost images, plugin extension "llmhost.images.v1" (C99).
 *
 * Image generation and image edits (OpenAI's /v1/images/generations and /v1/images/edits,
 * LiteLLM's image_generation and image_edit). A plugin offers them by returning this table from
 * llmh_provider.get_extension:
 *
 *   const llmh_images_provider *i = (const llmh_images_provider *)
 *       provider->get_extension(instance, LLMH_IMAGES_EXTENSION_ID);
 *
 * The host asks once per instance, right after `create`. A host without this extension never
 * asks; a plugin without it, or without `edit`, answers those calls with 501.
 *
 * The host has already checked the request: a prompt, n of at least 1, a response_format of
 * "url" or "b64_json", and for an edit at least one image within its size limits. The plugin
 * hands back each image as it has it, a URL, base64 text or raw bytes; the host answers in the
 * format the caller asked for, writing bytes or base64 as a data: URL when a URL was asked, and
 * failing the call (502) when the caller asked for b64_json and got only a URL.
 */
#ifndef LLMHOST_IMAGES_H
#define LLMHOST_IMAGES_H

#include <llmhost/provider.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The id to pass to llmh_provider.get_extension for this table. */
#define LLMH_IMAGES_EXTENSION_ID "llmhost.images.v1"

/* One file of an edit: an image or the mask. OWNERSHIP: filled by the host; views, valid as long
 * as the request that holds it. Passed in arrays, so frozen for version 1 of this extension. */
typedef struct llmh_image_file {
  llmh_str filename;     /* as the caller named it; may be empty */
  llmh_str content_type; /* as the caller declared it ("image/png"); may be empty */
  llmh_str data;         /* the file's bytes */
} llmh_image_file;

/* One images call. OWNERSHIP: filled and owned by the host; every pointer and view in it is
 * valid until the call returns. */
typedef struct llmh_image_request {
  uint32_t struct_size;          /* sizeof(llmh_image_request) as the host compiled it */
  const llmh_request *common;    /* model, api_key, api_base, timeout_s, num_retries and body_json
                                    (every key the caller sent; for an edit, the form's text
                                    fields as a JSON object), as for any call. Never NULL */
  llmh_str prompt;               /* what to draw, or how to change the images; never empty */
  int64_t n;                     /* how many images: at least 1 */
  llmh_str size;                 /* "1024x1024", "auto", ...; empty when the caller gave none */
  llmh_str quality;              /* "standard", "hd", "high", ...; empty when not given */
  llmh_str style;                /* "vivid", "natural"; empty when not given */
  llmh_str response_format;      /* "url" or "b64_json" (the host's default: "url") */
  const llmh_image_file *images; /* edit: the images to change, at least one; else NULL */
  size_t image_count;            /* number of entries in images */
  const llmh_image_file *mask;   /* edit: where to change them, or NULL; else NULL */
} llmh_image_request;

/* One image of an answer, in whatever form the plugin has it: set exactly one of url, b64_json
 * and data. OWNERSHIP: filled by the plugin; views, valid until add_image returns. */
typedef struct llmh_image {
  uint32_t struct_size;    /* sizeof(llmh_image) as the plugin compiled it */
  llmh_str url;            /* where the image can be fetched */
  llmh_str b64_json;       /* the image file as base64 */
  llmh_str data;           /* the image file's bytes (the host encodes them) */
  llmh_str revised_prompt; /* the prompt the model used, when it rewrote it; may be empty */
} llmh_image;

/* Where an images call writes its answer. OWNERSHIP: filled and owned by the host; every
 * function copies what it is given. Valid until the call returns. */
typedef struct llmh_image_builder {
  uint32_t struct_size; /* sizeof(llmh_image_builder) as the host compiled it */
  void *host_data;      /* host-private; do not touch */
  /* [thread: call] Adds one image to the answer, in order. */
  void (*add_image)(const struct llmh_image_builder *self, const llmh_image *image);
  /* [thread: call] Sets the token usage, for models that report it. */
  void (*set_usage)(const struct llmh_image_builder *self, const llmh_usage *usage);
  /* [thread: call] Sets the model name reported to the caller (default: the requested model). */
  void (*set_model)(const struct llmh_image_builder *self, llmh_str model);
  /* [thread: call] Non-zero once the caller has given up; stop and return promptly. */
  int (*cancelled)(const struct llmh_image_builder *self);
} llmh_image_builder;

/* The plugin's images table. OWNERSHIP: filled and owned by the plugin, static or per instance;
 * valid until `destroy` of the instance. Minor versions only append functions. */
typedef struct llmh_images_provider {
  uint32_t struct_size; /* sizeof(llmh_images_provider) as the plugin compiled it */
  /* [thread: any] Generates request->n images from request->prompt into `out`. Returns 0, or
   * fills `err` and returns non-zero. Called concurrently. Never NULL in a table the plugin
   * hands out. */
  int (*generate)(void *instance, const llmh_image_request *request, const llmh_image_builder *out, llmh_error *err);
  /* [thread: any] Edits request->images (with request->mask, if any) as request->prompt says,
   * into `out`. Returns as generate. Called concurrently. NULL when the plugin does not edit. */
  int (*edit)(void *instance, const llmh_image_request *request, const llmh_image_builder *out, llmh_error *err);
} llmh_images_provider;

#ifdef __cplusplus
}
#endif

#endif /* LLMHOST_IMAGES_H */
