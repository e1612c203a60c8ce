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
#include <virt-nest/layerindex.h>
#include <virt-nest/libvirtxml.h>
#include <virt-nest/leases.h>
#include <virt-nest/hostread.h>
#include <virt-nest/discover.h>
#include <virt-nest/vnconfig.h>
#include <virt-nest/layerplan.h>
#include <virt-nest/drift.h>
#include <virt-nest/layerview.h>
#include <virt-nest/json.h>
#include <virt-nest/xml.h>
#include <virt-nest/driftcheck.h>
#include <virt-nest/snapshot.h>
#include <virt-nest/nestalloc.h>
#include <virt-nest/plandefine.h>
#include <virt-nest/stitch.h>
#include <virt-nest/nestview.h>
#include <virt-nest/fwmodel.h>
#include <virt-nest/fweval.h>
#include <virt-nest/doctor.h>
#include <virt-nest/fwpath.h>
