/* SPDX-License-Identifier: MIT */
/* placeholder */
extern int roost_placeholder_api;
