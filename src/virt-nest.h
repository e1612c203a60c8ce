/* virt-nest.h: the public interface of libvirt-nest.
 *
 * libvirt-nest reads libvirt network and domain XML (over the libvirt API
 * or from hook stdin), models one layer of a nest of virtual machines, and
 * plans the routes and forward exceptions the layer needs.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <virt-nest/cidr.h>
#include <virt-nest/error.h>
#include <virt-nest/model.h>
#include <virt-nest/parse.h>
#include <virt-nest/leases.h>
#include <virt-nest/host.h>
#include <virt-nest/discover.h>
#include <virt-nest/vnconfig.h>
#include <virt-nest/plan.h>
#include <virt-nest/ledger.h>
#include <virt-nest/output.h>
#include <virt-nest/json.h>
#include <virt-nest/xml.h>
#include <virt-nest/drift.h>
#include <virt-nest/snapshot.h>
#include <virt-nest/nestplan.h>
#include <virt-nest/nestapply.h>
