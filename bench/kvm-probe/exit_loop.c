/*
 * exit_loop.c - the C baseline of the load driver's kvm exit-loop row: KVM_RUN round trips of a long-mode CPL3
 * guest doing `out` in a loop (guest.h's l64_loop in mode 3, the mode the kvm backend compiles guest programs to).
 *
 *   exit_loop [EXITS]      (default 20000)
 *
 * Prints "long64 CPL3 `out` loop ..." then "    -> N exits/s", as kvm/probe/bench.c's first section does, and
 * exits 1 when any run did not end in KVM_EXIT_IO (the count of bad exits is printed). Needs only /dev/kvm: no
 * guest_memfd, no memory attributes. guest.h, common.h and kvm_uapi.h are copies of the team's kvm/probe headers.
 */
#include "guest.h"

int main(int argc, char **argv) {
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
	if (n <= 0) { fprintf(stderr, "exit_loop: EXITS must be positive\n"); return 2; }
	struct guest g;
	int rc = guest_create(&g, 64 << 20, 0);
	if (rc) { fprintf(stderr, "exit_loop: cannot create the guest: %s\n", strerror(-rc)); return 1; }
	put_blob(&g, l64_loop_start, l64_loop_end);
	rc = guest_mode(&g, 3);
	if (rc) { fprintf(stderr, "exit_loop: cannot enter long mode at CPL3: %s\n", strerror(-rc)); return 1; }
	long bad = 0;
	uint64_t t0 = now_ns();
	for (long i = 0; i < n; i++)
		if (krun(&g) || g.run->exit_reason != KVM_EXIT_IO) bad++;
	double secs = (now_ns() - t0) / 1e9;
	printf("KVM_RUN round trip, long64 CPL3 `out` loop (%ld bad) n=%ld\n", bad, n);
	printf("    -> %.0f exits/s\n", n / secs);
	guest_destroy(&g);
	return bad ? 1 : 0;
}
