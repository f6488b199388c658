// libjpeg-turbo reports fatal errors through error_exit, which must not return: these helpers
// keep the setjmp/longjmp inside C, so no Swift frame is ever skipped by a longjmp.
#include <setjmp.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
} atrium_jpeg_error_manager;

static void atrium_jpeg_error_exit(j_common_ptr cinfo) {
    atrium_jpeg_error_manager *manager = (atrium_jpeg_error_manager *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, manager->message);
    longjmp(manager->jump, 1);
}

static void atrium_jpeg_output_message(j_common_ptr cinfo) { (void)cinfo; }

/// The frame parameters libjpeg-turbo reads from a stream's header.
typedef struct {
    int columns;
    int rows;
    int components;
    int precision;
    int jpeg_color_space;  // J_COLOR_SPACE as libjpeg guesses it from markers and component ids
    int saw_jfif;
    int saw_adobe;
    int adobe_transform;
} atrium_jpeg_header;

/// Reads the header (0 on success); on failure `message` (JMSG_LENGTH_MAX bytes) says why.
static inline int atrium_jpeg_read_header(const unsigned char *data, unsigned long size, atrium_jpeg_header *header,
                                          char *message) {
    struct jpeg_decompress_struct cinfo;
    atrium_jpeg_error_manager error;
    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = jpeg_std_error(&error.pub);
    error.pub.error_exit = atrium_jpeg_error_exit;
    error.pub.output_message = atrium_jpeg_output_message;
    error.message[0] = 0;
    if (setjmp(error.jump)) {
        strncpy(message, error.message, JMSG_LENGTH_MAX);
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, size);
    jpeg_read_header(&cinfo, TRUE);
    header->columns = (int)cinfo.image_width;
    header->rows = (int)cinfo.image_height;
    header->components = cinfo.num_components;
    header->precision = cinfo.data_precision;
    header->jpeg_color_space = (int)cinfo.jpeg_color_space;
    header->saw_jfif = cinfo.saw_JFIF_marker;
    header->saw_adobe = cinfo.saw_Adobe_marker;
    header->adobe_transform = cinfo.Adobe_transform;
    jpeg_destroy_decompress(&cinfo);
    return 0;
}

/// Decodes into `out` (rows × columns × components bytes). With `convert_to_rgb` 0 the components are
/// returned as coded (no colour conversion); with 1, YCbCr is converted to RGB. 0 on success.
static inline int atrium_jpeg_decode(const unsigned char *data, unsigned long size, int convert_to_rgb, int fancy_upsampling,
                                     unsigned char *out, unsigned long out_size, char *message) {
    struct jpeg_decompress_struct cinfo;
    atrium_jpeg_error_manager error;
    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = jpeg_std_error(&error.pub);
    error.pub.error_exit = atrium_jpeg_error_exit;
    error.pub.output_message = atrium_jpeg_output_message;
    error.message[0] = 0;
    if (setjmp(error.jump)) {
        strncpy(message, error.message, JMSG_LENGTH_MAX);
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, size);
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.num_components == 3) {
        cinfo.out_color_space = convert_to_rgb ? JCS_RGB : cinfo.jpeg_color_space;
    }
    cinfo.do_fancy_upsampling = fancy_upsampling ? TRUE : FALSE;
    cinfo.dct_method = JDCT_ISLOW;
    jpeg_start_decompress(&cinfo);
    unsigned long stride = (unsigned long)cinfo.output_width * (unsigned long)cinfo.output_components;
    if (stride * cinfo.output_height > out_size) {
        strncpy(message, "decoded image larger than the output buffer", JMSG_LENGTH_MAX);
        jpeg_destroy_decompress(&cinfo);
        return 2;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = out + (unsigned long)cinfo.output_scanline * stride;
        if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) {
            strncpy(message, "jpeg_read_scanlines returned no line", JMSG_LENGTH_MAX);
            jpeg_destroy_decompress(&cinfo);
            return 3;
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return 0;
}

/// Encodes 8-bit grey (1 component) or RGB (3) rows into a baseline JPEG at `quality` (1–100); on success (0)
/// `*out` holds `*out_size` bytes allocated with malloc, which the caller frees.
static inline int atrium_jpeg_encode(const unsigned char *pixels, int width, int height, int components, int quality,
                                     unsigned char **out, unsigned long *out_size, char *message) {
    struct jpeg_compress_struct cinfo;
    atrium_jpeg_error_manager error;
    memset(&cinfo, 0, sizeof cinfo);
    *out = NULL;
    *out_size = 0;
    cinfo.err = jpeg_std_error(&error.pub);
    error.pub.error_exit = atrium_jpeg_error_exit;
    error.pub.output_message = atrium_jpeg_output_message;
    error.message[0] = 0;
    if (setjmp(error.jump)) {
        strncpy(message, error.message, JMSG_LENGTH_MAX);
        jpeg_destroy_compress(&cinfo);
        if (*out) { free(*out); *out = NULL; }
        return 1;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, out, out_size);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = components;
    cinfo.in_color_space = components == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    unsigned long stride = (unsigned long)width * (unsigned long)components;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (unsigned long)cinfo.next_scanline * stride);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    return 0;
}
