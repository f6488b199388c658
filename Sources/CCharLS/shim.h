// The C API of CharLS 2.x (charls_jpegls_decoder_* / charls_jpegls_encoder_*).
#include <charls/charls.h>
