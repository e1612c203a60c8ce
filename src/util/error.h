/* error.h: the GError domain of virt-nest.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VN_ERROR (vn_error_quark())
GQuark vn_error_quark(void);

typedef enum {
    VN_ERROR_FAILED,        /* a runtime failure: I/O, netlink, libvirt */
    VN_ERROR_INVALID,       /* bad input: XML, metadata, addresses */
    VN_ERROR_REFUSED,       /* metadata that the safety limits refuse */
    VN_ERROR_CONFLICT,      /* something not virt-nest's is in the way */
    VN_ERROR_NOT_FOUND,     /* an object that does not exist */
    VN_ERROR_UNSUPPORTED,   /* a firewall or driver virt-nest cannot use */
} VnErrorCode;

G_END_DECLS
