// OpenJPEG 2.5 reads and writes through opj_stream_t callbacks; these helpers give it a memory
// buffer so that no file is needed, and collect its error messages.
#include <stdlib.h>
#include <string.h>
#include <openjpeg.h>

typedef struct {
    const unsigned char *data;
    size_t size;
    size_t position;
} atrium_opj_input;

typedef struct {
    unsigned char *data;
    size_t size;
    size_t capacity;
    size_t position;
} atrium_opj_output;

static OPJ_SIZE_T atrium_opj_read(void *buffer, OPJ_SIZE_T count, void *user) {
    atrium_opj_input *input = (atrium_opj_input *)user;
    if (input->position >= input->size) return (OPJ_SIZE_T)-1;
    size_t n = input->size - input->position;
    if (n > count) n = count;
    memcpy(buffer, input->data + input->position, n);
    input->position += n;
    return n;
}

static OPJ_OFF_T atrium_opj_skip(OPJ_OFF_T count, void *user) {
    atrium_opj_input *input = (atrium_opj_input *)user;
    if (count < 0) {
        if ((size_t)(-count) > input->position) count = -(OPJ_OFF_T)input->position;
    } else if ((size_t)count > input->size - input->position) {
        count = (OPJ_OFF_T)(input->size - input->position);
    }
    input->position += count;
    return count;
}

static OPJ_BOOL atrium_opj_seek(OPJ_OFF_T position, void *user) {
    atrium_opj_input *input = (atrium_opj_input *)user;
    if (position < 0 || (size_t)position > input->size) return OPJ_FALSE;
    input->position = (size_t)position;
    return OPJ_TRUE;
}

static OPJ_SIZE_T atrium_opj_write(void *buffer, OPJ_SIZE_T count, void *user) {
    atrium_opj_output *output = (atrium_opj_output *)user;
    size_t end = output->position + count;
    if (end > output->capacity) {
        size_t capacity = output->capacity ? output->capacity : 65536;
        while (capacity < end) capacity *= 2;
        unsigned char *grown = (unsigned char *)realloc(output->data, capacity);
        if (!grown) return (OPJ_SIZE_T)-1;
        output->data = grown;
        output->capacity = capacity;
    }
    memcpy(output->data + output->position, buffer, count);
    output->position = end;
    if (end > output->size) output->size = end;
    return count;
}

static OPJ_OFF_T atrium_opj_output_skip(OPJ_OFF_T count, void *user) {
    atrium_opj_output *output = (atrium_opj_output *)user;
    if (count < 0 && (size_t)(-count) > output->position) return -1;
    output->position += count;
    return count;
}

static OPJ_BOOL atrium_opj_output_seek(OPJ_OFF_T position, void *user) {
    atrium_opj_output *output = (atrium_opj_output *)user;
    if (position < 0) return OPJ_FALSE;
    output->position = (size_t)position;
    return OPJ_TRUE;
}

static void atrium_opj_error(const char *message, void *user) {
    char *buffer = (char *)user;
    if (buffer[0] == 0) strncpy(buffer, message, 255);
}

static void atrium_opj_quiet(const char *message, void *user) { (void)message; (void)user; }

/// Reads the header of a J2K codestream or JP2 file into `*image` (components without data). 0 on success.
/// On success the caller finishes with atrium_opj_decode_body and atrium_opj_finish.
typedef struct {
    opj_codec_t *codec;
    opj_stream_t *stream;
    atrium_opj_input input;
    char message[256];
} atrium_opj_decoder;

/// `threads` above 1 asks OpenJPEG to decode code-blocks on that many worker threads (opj_codec_set_threads, which
/// must come between opj_setup_decoder and opj_read_header); a library built without threads decodes on one.
static inline int atrium_opj_read_header(atrium_opj_decoder *decoder, const unsigned char *data, size_t size,
                                         opj_image_t **image, int threads) {
    memset(decoder, 0, sizeof *decoder);
    decoder->input.data = data;
    decoder->input.size = size;
    OPJ_CODEC_FORMAT format = OPJ_CODEC_J2K;
    static const unsigned char jp2_signature[] = {0, 0, 0, 0x0C, 'j', 'P', ' ', ' '};
    if (size >= 8 && memcmp(data, jp2_signature, 8) == 0) format = OPJ_CODEC_JP2;
    decoder->codec = opj_create_decompress(format);
    if (!decoder->codec) { strcpy(decoder->message, "opj_create_decompress failed"); return 1; }
    opj_set_error_handler(decoder->codec, atrium_opj_error, decoder->message);
    opj_set_warning_handler(decoder->codec, atrium_opj_quiet, NULL);
    opj_set_info_handler(decoder->codec, atrium_opj_quiet, NULL);
    opj_dparameters_t parameters;
    opj_set_default_decoder_parameters(&parameters);
    if (!opj_setup_decoder(decoder->codec, &parameters)) return 2;
    if (threads > 1) (void)opj_codec_set_threads(decoder->codec, threads);
    decoder->stream = opj_stream_create(1 << 16, OPJ_TRUE);
    if (!decoder->stream) { strcpy(decoder->message, "opj_stream_create failed"); return 3; }
    opj_stream_set_user_data(decoder->stream, &decoder->input, NULL);
    opj_stream_set_user_data_length(decoder->stream, size);
    opj_stream_set_read_function(decoder->stream, atrium_opj_read);
    opj_stream_set_skip_function(decoder->stream, atrium_opj_skip);
    opj_stream_set_seek_function(decoder->stream, atrium_opj_seek);
    if (!opj_read_header(decoder->stream, decoder->codec, image)) {
        if (decoder->message[0] == 0) strcpy(decoder->message, "opj_read_header failed");
        return 4;
    }
    return 0;
}

/// Decodes the image whose header was read. 0 on success.
static inline int atrium_opj_decode_body(atrium_opj_decoder *decoder, opj_image_t *image) {
    if (!opj_decode(decoder->codec, decoder->stream, image) || !opj_end_decompress(decoder->codec, decoder->stream)) {
        if (decoder->message[0] == 0) strcpy(decoder->message, "opj_decode failed");
        return 5;
    }
    return 0;
}

static inline void atrium_opj_finish(atrium_opj_decoder *decoder, opj_image_t *image) {
    if (image) opj_image_destroy(image);
    if (decoder->stream) opj_stream_destroy(decoder->stream);
    if (decoder->codec) opj_destroy_codec(decoder->codec);
}

/// Encodes `columns`×`rows` samples (`components` planes of OPJ_INT32, one after another) as a lossless
/// J2K codestream with the reversible 5/3 wavelet. On success `*out` is malloc'd (free with free()).
static inline int atrium_opj_encode_lossless(const OPJ_INT32 *planes, int columns, int rows, int components, int precision,
                                             int is_signed, int use_mct, unsigned char **out, size_t *out_size,
                                             char *message) {
    opj_image_cmptparm_t parameters[4];
    memset(parameters, 0, sizeof parameters);
    if (components < 1 || components > 4) { strcpy(message, "component count"); return 1; }
    for (int c = 0; c < components; c++) {
        parameters[c].dx = 1;
        parameters[c].dy = 1;
        parameters[c].w = (OPJ_UINT32)columns;
        parameters[c].h = (OPJ_UINT32)rows;
        parameters[c].prec = (OPJ_UINT32)precision;
        parameters[c].sgnd = (OPJ_UINT32)is_signed;
    }
    opj_image_t *image = opj_image_create((OPJ_UINT32)components, parameters,
                                          components == 3 ? OPJ_CLRSPC_SRGB : OPJ_CLRSPC_GRAY);
    if (!image) { strcpy(message, "opj_image_create failed"); return 2; }
    image->x0 = 0;
    image->y0 = 0;
    image->x1 = (OPJ_UINT32)columns;
    image->y1 = (OPJ_UINT32)rows;
    size_t count = (size_t)columns * (size_t)rows;
    for (int c = 0; c < components; c++) memcpy(image->comps[c].data, planes + count * c, count * sizeof(OPJ_INT32));

    opj_cparameters_t encoding;
    opj_set_default_encoder_parameters(&encoding);
    encoding.tcp_numlayers = 1;
    encoding.tcp_rates[0] = 0;  // lossless
    encoding.cp_disto_alloc = 1;
    encoding.irreversible = 0;
    encoding.tcp_mct = (char)(use_mct && components == 3 ? 1 : 0);
    int resolutions = 6;
    while (resolutions > 1 && ((columns >> (resolutions - 1)) < 1 || (rows >> (resolutions - 1)) < 1)) resolutions--;
    encoding.numresolution = resolutions;

    opj_codec_t *codec = opj_create_compress(OPJ_CODEC_J2K);
    message[0] = 0;
    opj_set_error_handler(codec, atrium_opj_error, message);
    opj_set_warning_handler(codec, atrium_opj_quiet, NULL);
    opj_set_info_handler(codec, atrium_opj_quiet, NULL);
    atrium_opj_output output;
    memset(&output, 0, sizeof output);
    opj_stream_t *stream = NULL;
    int status = 0;
    if (!opj_setup_encoder(codec, &encoding, image)) { status = 3; goto done; }
    stream = opj_stream_create(1 << 16, OPJ_FALSE);
    if (!stream) { status = 4; goto done; }
    opj_stream_set_user_data(stream, &output, NULL);
    opj_stream_set_write_function(stream, atrium_opj_write);
    opj_stream_set_skip_function(stream, atrium_opj_output_skip);
    opj_stream_set_seek_function(stream, atrium_opj_output_seek);
    if (!opj_start_compress(codec, image, stream) || !opj_encode(codec, stream) || !opj_end_compress(codec, stream)) {
        status = 5;
        goto done;
    }
done:
    if (stream) opj_stream_destroy(stream);
    opj_destroy_codec(codec);
    opj_image_destroy(image);
    if (status != 0) {
        free(output.data);
        if (message[0] == 0) strcpy(message, "OpenJPEG encoding failed");
        return status;
    }
    *out = output.data;
    *out_size = output.size;
    return 0;
}
