/* fuzz_list_hosts.c - libFuzzer harness: hosts and plain-domain block
 * lists (lists/list_hosts.c). */
#include "config.h"

#include "lists/list_hosts.h"
#include "tests/fuzz/fuzz_list.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_list_format(data, size, list_hosts_add_line,
				list_hosts_load);
}
