/* noicu.c: the hook's libxml2 without ICU's converters.
 *
 * Debian's libxml2.a asks ICU for a converter only when a document is in
 * an encoding libxml2 cannot read itself (anything but UTF-8, UTF-16,
 * ISO-8859-1 and ASCII). The hook's reader refuses what is not UTF-8
 * before libxml2 sees it (util/xml.c), so those calls never happen; these
 * definitions say "no such converter" should one ever be asked for, and
 * spare every hook call ICU's libraries (libicuuc, its 30 MB of data, and
 * libstdc++): the figures are in util/xml.c. ICU's own header renames the
 * functions to this ICU version's symbols.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <unicode/ucnv.h>

UConverter *
ucnv_open(const char *name, UErrorCode *err)
{
    (void)name;
    *err = U_FILE_ACCESS_ERROR;
    return NULL;
}

void
ucnv_close(UConverter *conv)
{
    (void)conv;
}

void
ucnv_setToUCallBack(UConverter *conv, UConverterToUCallback action,
                    const void *context, UConverterToUCallback *old_action,
                    const void **old_context, UErrorCode *err)
{
    (void)conv, (void)action, (void)context, (void)old_action, (void)old_context;
    *err = U_UNSUPPORTED_ERROR;
}

void
ucnv_setFromUCallBack(UConverter *conv, UConverterFromUCallback action,
                      const void *context, UConverterFromUCallback *old_action,
                      const void **old_context, UErrorCode *err)
{
    (void)conv, (void)action, (void)context, (void)old_action, (void)old_context;
    *err = U_UNSUPPORTED_ERROR;
}

void
ucnv_convertEx(UConverter *target_cnv, UConverter *source_cnv, char **target,
               const char *target_limit, const char **source,
               const char *source_limit, UChar *pivot_start, UChar **pivot_source,
               UChar **pivot_target, const UChar *pivot_limit, UBool reset,
               UBool flush, UErrorCode *err)
{
    (void)target_cnv, (void)source_cnv, (void)target, (void)target_limit;
    (void)source, (void)source_limit, (void)pivot_start, (void)pivot_source;
    (void)pivot_target, (void)pivot_limit, (void)reset, (void)flush;
    *err = U_UNSUPPORTED_ERROR;
}

void
UCNV_TO_U_CALLBACK_STOP(const void *context, UConverterToUnicodeArgs *args,
                        const char *units, int32_t length,
                        UConverterCallbackReason reason, UErrorCode *err)
{
    (void)context, (void)args, (void)units, (void)length, (void)reason, (void)err;
}

void
UCNV_FROM_U_CALLBACK_STOP(const void *context, UConverterFromUnicodeArgs *args,
                          const UChar *units, int32_t length, UChar32 code_point,
                          UConverterCallbackReason reason, UErrorCode *err)
{
    (void)context, (void)args, (void)units, (void)length, (void)code_point;
    (void)reason, (void)err;
}
