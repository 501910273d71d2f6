/* test_rules_store.c - unit tests for src/rules_store.c, from its
 * contract (rules_store.h): add (checked by the parser, canonical, once),
 * a bad rule refused with the parser's reason, delete by id, ids the
 * policy's reading gives too and that stay across reloads and edits
 * elsewhere, writes that leave the old file or the new one (a temporary
 * file a crash left is never read and is removed), the file's mode, and
 * hostile rules (a newline, a NUL, 10 KB). */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "src/config_file.h"
#include "src/rule.h"
#include "src/rules_file.h"
#include "src/rules_store.h"
#include "tests/unit/check.h"
#include "tests/unit/fixtures.h"

#define NOW 1800000000

static char dir[64], path[128], err[2048];
static struct rules_store_change ch;

static long
find_list(void *arg, const char *name)
{
	(void)arg;
	return strcmp(name, "ads") == 0 ? 0 : -1;
}

static const struct rules_file_ctx ctx = {find_list, NULL, NOW};

static int
add(const char *rule)
{
	err[0] = '\0';
	return rules_store_add(path, rule, strlen(rule), &ctx, NULL, &ch, err,
	                       sizeof err);
}

/* The ids of the rules the directory gives as the policy reads it. */
static size_t
load_ids(const char *where, uint32_t *ids, size_t max)
{
	struct rule_book b;
	long n;
	size_t i;

	rule_book_init(&b);
	n = rules_file_load(&b, where, &ctx, err, sizeof err);
	for (i = 0; n > 0 && i < b.n && i < max; i++)
		ids[i] = b.rules[i].id;
	rule_book_free(&b);
	return n < 0 ? (size_t)-1 : (size_t)n;
}

static bool
file_has(const char *text)
{
	char *s = fixture_read_file(path);
	bool found = s != NULL && strstr(s, text) != NULL;

	free(s);
	return found;
}

static void
test_add(void)
{
	struct stat st;
	uint32_t ids[8], first;
	char *before, *after;

	CHECK_INT(add("block app=flatpak:org.mozilla.firefox "
	              "domain=Example.COM"),
	          0);
	CHECK(!ch.existed);
	CHECK(ch.id != 0);
	CHECK_STR(ch.text,
	          "block app=flatpak:org.mozilla.firefox domain=example.com");
	first = ch.id;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644);
	CHECK(st.st_uid == geteuid() || geteuid() != 0);
	CHECK(file_has("# " RULES_STORE_FILE " - written by dnsgated"));
	CHECK(file_has("\nblock app=flatpak:org.mozilla.firefox "
	               "domain=example.com\n"));
	/* The policy reads the same rule, with the same id, at that line. */
	CHECK_INT(load_ids(dir, ids, 8), 1);
	CHECK_INT(ids[0], first);
	CHECK(ch.line > 1);

	/* Once: the same rule (differently written) is not added again. */
	before = fixture_read_file(path);
	CHECK_INT(add("  block  domain=example.com "
	              "app=flatpak:org.mozilla.firefox  # again"),
	          0);
	CHECK(ch.existed);
	CHECK_INT(ch.id, first);
	after = fixture_read_file(path);
	CHECK(before && after && strcmp(before, after) == 0);
	free(before);
	free(after);

	/* for= is written as the until= it stands for: its end must not
	 * move when the file changes. */
	CHECK_INT(add("allow name=ok.example for=30m"), 0);
	CHECK_STR(ch.text, "allow name=ok.example until=2027-01-15T08:30:00Z");
	CHECK(!file_has("for="));
	CHECK_INT(add("block list=ads"), 0);
	CHECK_INT(load_ids(dir, ids, 8), 3);
	CHECK_INT(ids[0], first); /* added to: the first rule's id stays */
}

static void
test_refused(void)
{
	char *before = fixture_read_file(path), *after, big[10240];

	CHECK_INT(add("block app=x domain=bad..example"), -1);
	CHECK(strncmp(err, "rule:1:", 7) == 0);
	CHECK_INT(add("block colour=red name=a.example"), -1);
	CHECK(strstr(err, "rule:1:7: unknown field 'colour='") != NULL);
	CHECK_INT(add("block list=nope"), -1);
	CHECK(strstr(err, "no list is named 'nope'") != NULL);
	CHECK_INT(add("allow name=a.example until=2020-01-01"), -1);
	CHECK(strstr(err, "past") != NULL);
	CHECK_INT(add("   # only a comment"), -1);
	CHECK(strstr(err, "no rule given") != NULL);
	/* Hostile: a second rule behind a newline, a NUL, 10 KB. */
	CHECK_INT(add("allow name=a.example\nallow name=*"), -1);
	CHECK(strstr(err, "one line") != NULL);
	CHECK_INT(rules_store_add(path, "allow name=a.example\0name=*", 27,
	                          &ctx, NULL, &ch, err, sizeof err),
	          -1);
	CHECK(strstr(err, "NUL") != NULL);
	memcpy(big, "block name=", 11);
	memset(big + 11, 'a', sizeof big - 12);
	big[sizeof big - 1] = '\0';
	CHECK_INT(add(big), -1);
	CHECK(strstr(err, "longer") != NULL);
	after = fixture_read_file(path);
	CHECK(before && after && strcmp(before, after) == 0);
	free(before);
	free(after);
}

static void
test_delete(void)
{
	uint32_t ids[8], again[8];
	size_t n;
	FILE *f;

	/* A comment and a rule added by hand stay as they are. */
	f = fopen(path, "a");
	CHECK(f != NULL);
	if (f != NULL) {
		fputs("# by hand\nblock name=hand.example\n", f);
		fclose(f);
	}
	n = load_ids(dir, ids, 8);
	CHECK_INT(n, 4);
	err[0] = '\0';
	CHECK_INT(rules_store_delete(path, ids[1], &ctx, &ch, err, sizeof err),
	          0);
	CHECK_STR(ch.text, "allow name=ok.example until=2027-01-15T08:30:00Z");
	CHECK(!file_has("ok.example"));
	CHECK(file_has("# by hand\nblock name=hand.example\n"));
	CHECK(file_has("# " RULES_STORE_FILE));
	/* The others keep their ids (a reload reads them so). */
	CHECK_INT(load_ids(dir, again, 8), 3);
	CHECK_INT(again[0], ids[0]);
	CHECK_INT(again[1], ids[2]);
	CHECK_INT(again[2], ids[3]);
	CHECK_INT(rules_store_delete(path, ids[1], &ctx, &ch, err, sizeof err),
	          1);
	/* Read from another spelling of the directory: the same ids. */
	{
		char other[160];

		snprintf(other, sizeof other, "%s/./", dir);
		CHECK_INT(load_ids(other, ids, 8), 3);
		CHECK_INT(ids[0], again[0]);
	}
}

/* Two equal lines (a hand edit) have two ids; each deletes one. */
static void
test_repeats(void)
{
	uint32_t ids[8];
	FILE *f = fopen(path, "a");

	if (f != NULL) {
		fputs("allow name=twice.example\nallow  name=twice.example\n",
		      f);
		fclose(f);
	}
	CHECK_INT(load_ids(dir, ids, 8), 5);
	CHECK(ids[3] != ids[4]);
	CHECK_INT(rules_store_delete(path, ids[4], &ctx, &ch, err, sizeof err),
	          0);
	CHECK(file_has("allow name=twice.example\n"));
	CHECK(!file_has("allow  name=twice.example"));
	CHECK_INT(load_ids(dir, ids, 8), 4);
	CHECK_INT(rules_store_delete(path, ids[3], &ctx, &ch, err, sizeof err),
	          0);
	CHECK(!file_has("twice"));
}

/* A crash between the write and the rename leaves a temporary file:
 * the old file is what is read, the rules directory never reads the
 * temporary one, and the next change removes it. */
static void
test_crash_leftover(void)
{
	char tmp[200], *before;
	uint32_t ids[8];
	struct stat st;
	FILE *f;

	snprintf(tmp, sizeof tmp, "%s/.%s.a1B2c3", dir, RULES_STORE_FILE);
	f = fopen(tmp, "w");
	CHECK(f != NULL);
	if (f != NULL) {
		fputs("allow name=*\nhalf a ru", f); /* cut mid-write */
		fclose(f);
	}
	before = fixture_read_file(path);
	CHECK_INT(load_ids(dir, ids, 8), 3);
	{
		struct rule_book b;

		rule_book_init(&b);
		CHECK_INT(rules_store_read(path, &b, &ctx, err, sizeof err), 3);
		rule_book_free(&b);
	}
	CHECK_INT(add("block name=after.example"), 0);
	CHECK(stat(tmp, &st) < 0);
	CHECK_INT(load_ids(dir, ids, 8), 4);
	free(before);
}

/* A file broken by hand: nothing is changed in it, the reason given. */
static void
test_broken_file(void)
{
	char *before, *after;
	FILE *f = fopen(path, "a");

	if (f != NULL) {
		fputs("blok name=typo.example\n", f);
		fclose(f);
	}
	before = fixture_read_file(path);
	CHECK_INT(add("block name=new.example"), -1);
	CHECK(strstr(err, "does not read") != NULL);
	CHECK(strstr(err, "expected allow, block, ask or default") != NULL);
	CHECK_INT(rules_store_delete(path, 1, &ctx, &ch, err, sizeof err), -1);
	after = fixture_read_file(path);
	CHECK(before && after && strcmp(before, after) == 0);
	free(before);
	free(after);
}

/* A write that cannot happen: the reason, and nothing left. */
static void
test_write_fails(void)
{
	char blocker[128], bad[200];
	FILE *f;

	snprintf(blocker, sizeof blocker, "%s/plainfile", dir);
	f = fopen(blocker, "w");
	if (f != NULL)
		fclose(f);
	snprintf(bad, sizeof bad, "%s/%s", blocker, RULES_STORE_FILE);
	CHECK_INT(rules_store_add(bad, "block name=a.example", 20, &ctx, NULL, &ch,
	                          err, sizeof err),
	          -1);
	CHECK(strstr(err, "plainfile") != NULL);
	unlink(blocker);
}

/* The note written after a rule, read back; it changes no id. */
static void
test_notes(void)
{
	struct rules_store_notes *n;
	unsigned noted, quoted;
	char line[300];

	CHECK_INT(rules_store_add(path, "block name=noted.example", 24, &ctx,
	                          "prompt: block\nforever", &ch, err,
	                          sizeof err),
	          0);
	noted = ch.line;
	snprintf(line, sizeof line,
	         "\nblock name=noted.example  # prompt: block?forever, "
	         "2027-01-15T08:00:00Z\n");
	CHECK(file_has(line));
	CHECK_INT(add("block name=noted.example"), 0);
	CHECK(ch.existed); /* the same rule: the note is a comment */
	CHECK_INT(ch.line, noted);
	CHECK_INT(add("block exe=\"/opt/a #b\" name=q.example"), 0);
	quoted = ch.line;
	n = rules_store_notes_read(path);
	CHECK(n != NULL);
	CHECK_STR(rules_store_note(n, noted),
	          "prompt: block?forever, 2027-01-15T08:00:00Z");
	CHECK_STR(rules_store_note(n, quoted), ""); /* '#' in quotes */
	CHECK_STR(rules_store_note(n, 1), "");      /* the header */
	CHECK_STR(rules_store_note(n, 100000), "");
	rules_store_notes_free(n);
	CHECK_STR(rules_store_note(NULL, 1), "");
}

static void
test_path(void)
{
	char conf[160], buf[256], want[256];
	struct config *cfg;
	FILE *f;

	/* The default rules.d beside the config, made or not. */
	snprintf(conf, sizeof conf, "%s/dnsgate.conf", dir);
	f = fopen(conf, "w");
	if (f != NULL) {
		fputs("upstream 192.0.2.1\n", f);
		fclose(f);
	}
	cfg = config_load(conf, err, sizeof err);
	CHECK(cfg != NULL);
	if (cfg != NULL) {
		rules_store_path(cfg, buf, sizeof buf);
		snprintf(want, sizeof want, "%s/rules.d/%s", dir,
		         RULES_STORE_FILE);
		CHECK_STR(buf, want);
		config_free(cfg);
	}
	/* The first directory the config's rules name. */
	f = fopen(conf, "w");
	if (f != NULL) {
		fprintf(f,
		        "upstream 192.0.2.1\nrules %s/none.rules\n"
		        "rules %s\n",
		        dir, dir);
		fclose(f);
	}
	cfg = config_load(conf, err, sizeof err);
	CHECK(cfg != NULL);
	if (cfg != NULL) {
		rules_store_path(cfg, buf, sizeof buf);
		snprintf(want, sizeof want, "%s/%s", dir, RULES_STORE_FILE);
		CHECK_STR(buf, want);
		config_free(cfg);
	}
	unlink(conf);
}

static void
test_ids(void)
{
	char text[16];
	uint32_t id;

	CHECK_STR(rule_id_format(0x3f9a0c12, text, sizeof text), "3f9a0c12");
	CHECK(rule_id_parse("3F9A0C12", &id) == 0 && id == 0x3f9a0c12);
	CHECK(rule_id_parse("3f9a0c1", &id) < 0);
	CHECK(rule_id_parse("3f9a0c123", &id) < 0);
	CHECK(rule_id_parse("3f9a0c1g", &id) < 0);
	CHECK(rule_id_parse("00000000", &id) < 0);
	/* The file's base name counts, not its directory. */
	CHECK_INT(rule_id_of("/a/x.rules", "t", 1, 0),
	          rule_id_of("/b/x.rules", "t", 1, 0));
	CHECK(rule_id_of("/a/x.rules", "t", 1, 0) !=
	      rule_id_of("/a/y.rules", "t", 1, 0));
	CHECK(rule_id_of("x", "t", 1, 0) != rule_id_of("x", "t", 1, 1));
}

static void
cleanup(void)
{
	char full[300];
	struct dirent *de;
	DIR *d = opendir(dir);

	while (d != NULL && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(full, sizeof full, "%s/%s", dir, de->d_name);
		unlink(full);
	}
	if (d != NULL)
		closedir(d);
	rmdir(dir);
}

int
main(void)
{
	snprintf(dir, sizeof dir, "/tmp/dnsgate-store-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 99;
	snprintf(path, sizeof path, "%s/%s", dir, RULES_STORE_FILE);
	test_ids();
	test_add();
	test_refused();
	test_delete();
	test_repeats();
	test_crash_leftover();
	test_broken_file();
	test_write_fails();
	test_path();
	unlink(path);
	test_notes();
	cleanup();
	return check_exit();
}
