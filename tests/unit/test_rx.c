/* SPDX-License-Identifier: BSD-3-Clause */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <rte_mbuf.h>

#include "sl_rx.h"

/* The NIC's checksum verdicts map onto lib/net's flags one for one: a
 * checked-good sum skips the software check, a bad one is a drop, "none"
 * (good and bad both set, which lib/net takes as good) and "unknown" (neither:
 * left to software). */
static void
test_csum_flags(void **state)
{
	assert_int_equal(sl_rx_csum_flags(0), 0);
	assert_int_equal(sl_rx_csum_flags(RTE_MBUF_F_RX_IP_CKSUM_GOOD), SL_NET_F_IP_CSUM_GOOD);
	assert_int_equal(sl_rx_csum_flags(RTE_MBUF_F_RX_IP_CKSUM_BAD), SL_NET_F_IP_CSUM_BAD);
	assert_int_equal(sl_rx_csum_flags(RTE_MBUF_F_RX_L4_CKSUM_GOOD), SL_NET_F_L4_CSUM_GOOD);
	assert_int_equal(sl_rx_csum_flags(RTE_MBUF_F_RX_L4_CKSUM_BAD), SL_NET_F_L4_CSUM_BAD);
	assert_int_equal(sl_rx_csum_flags(RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_BAD),
			 SL_NET_F_IP_CSUM_GOOD | SL_NET_F_L4_CSUM_BAD);
	/* "NONE" is both bits: the NIC vouches for the packet. */
	assert_int_equal(
		sl_rx_csum_flags(RTE_MBUF_F_RX_IP_CKSUM_NONE | RTE_MBUF_F_RX_L4_CKSUM_NONE),
		SL_NET_F_IP_CSUM_GOOD | SL_NET_F_IP_CSUM_BAD | SL_NET_F_L4_CSUM_GOOD |
			SL_NET_F_L4_CSUM_BAD);
	/* Unrelated flags change nothing. */
	assert_int_equal(sl_rx_csum_flags(RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_RSS_HASH), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csum_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
