/* hookmark.h: the string that marks virt-nest's hook binary, so that
 * `virt-nest install-hooks` never overwrites, and `uninstall-hooks` never
 * removes, a hook that is not virt-nest's.
 *
 * Only the hook holds the whole string; the CLI joins the two halves at run
 * time, so that the CLI itself never passes for the hook.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#define VN_HOOK_MARK_HEAD "virt-nest-hook: "
#define VN_HOOK_MARK_TAIL "the libvirt hook of virt-nest, urn:virt-nest:1"
