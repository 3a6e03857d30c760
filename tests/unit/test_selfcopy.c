/* Unit tests for agent/runtime/selfcopy: the sealed copy of the binary that shims run
 * from holds only what an exec needs, is immutable, and is made once per process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/runtime/selfcopy.h"
#include "lib/cleanup.h"
#include "lib/file.h"

static void copy_is_sealed_shared_and_only_the_loadable_part(void **state)
{
    cleanup_error minik_error_t *err = NULL;
    cleanup_close int a = minik_selfcopy_fd(&err);
    cleanup_close int b = minik_selfcopy_fd(&err);
    assert_true(a >= 0);
    assert_true(b >= 0);
    assert_null(err);
    assert_int_not_equal(a, b);
    assert_int_equal(fcntl(a, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);

    /* One copy per process, whichever container asks. */
    struct stat sa, sb, self;
    assert_int_equal(fstat(a, &sa), 0);
    assert_int_equal(fstat(b, &sb), 0);
    assert_int_equal(sa.st_ino, sb.st_ino);
    assert_int_equal(sa.st_dev, sb.st_dev);

    int seals = fcntl(a, F_GET_SEALS);
    int want = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
    assert_int_equal(seals & want, want);
    assert_int_equal(write(a, "x", 1), -1);
    assert_int_equal(ftruncate(a, 0), -1);

    /* This runner is built with -g: the copy leaves the debug info behind. */
    assert_int_equal(stat("/proc/self/exe", &self), 0);
    off_t need = 0;
    cleanup_close int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    assert_int_equal(minik_selfcopy_exec_size(exe, self.st_size, &need, &err), 0);
    assert_int_equal(sa.st_size, need);
    assert_true(sa.st_size < self.st_size);

    /* Same loadable bytes; the header says there are no section headers. */
    ElfW(Ehdr) orig, copy;
    assert_int_equal(pread(exe, &orig, sizeof orig, 0), (ssize_t)sizeof orig);
    assert_int_equal(pread(a, &copy, sizeof copy, 0), (ssize_t)sizeof copy);
    assert_int_equal(copy.e_shnum, 0);
    assert_int_equal(copy.e_shoff, 0);
    assert_int_equal(copy.e_entry, orig.e_entry);
    assert_int_equal(copy.e_phnum, orig.e_phnum);
    char x[4096], y[4096];
    off_t off = need > (off_t)sizeof x ? need - (off_t)sizeof x : 0;
    assert_int_equal(pread(exe, x, sizeof x, off), (ssize_t)sizeof x);
    assert_int_equal(pread(a, y, sizeof y, off), (ssize_t)sizeof y);
    assert_memory_equal(x, y, sizeof x);
}

static int temp_file(const void *data, size_t len, off_t *size)
{
    char path[] = "/tmp/minik-selfcopy-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    *size = (off_t)len;
    return fd;
}

static void exec_size_refuses_what_is_not_an_elf_of_this_machine(void **state)
{
    cleanup_error minik_error_t *err = NULL;
    off_t size = 0, out = 0;
    {
        char text[128];
        memset(text, 'a', sizeof text);
        cleanup_close int fd = temp_file(text, sizeof text, &size);
        assert_true(minik_selfcopy_exec_size(fd, size, &out, &err) < 0);
        assert_string_equal(err->msg, "the minik binary is not an ELF file of this machine");
        minik_error_clear(&err);
    }
    {
        cleanup_close int fd = temp_file("\177ELF", 4, &size);
        assert_true(minik_selfcopy_exec_size(fd, size, &out, &err) < 0);
        assert_string_equal(err->msg, "the minik binary is too small for an ELF header");
        minik_error_clear(&err);
    }
    /* The real header, cut off before its program headers / segments. */
    cleanup_close int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    char head[sizeof(ElfW(Ehdr)) + 8];
    assert_int_equal(pread(exe, head, sizeof head, 0), (ssize_t)sizeof head);
    {
        cleanup_close int fd = temp_file(head, sizeof head, &size);
        assert_true(minik_selfcopy_exec_size(fd, size, &out, &err) < 0);
        assert_string_equal(err->msg, "the minik binary's program headers lie past its end");
        minik_error_clear(&err);
    }
    {
        ElfW(Ehdr) eh;
        memcpy(&eh, head, sizeof eh);
        eh.e_phentsize = 7;
        cleanup_close int fd = temp_file(&eh, sizeof eh, &size);
        assert_true(minik_selfcopy_exec_size(fd, size, &out, &err) < 0);
        assert_string_equal(err->msg, "the minik binary has malformed program headers");
        minik_error_clear(&err);
    }
    {
        ElfW(Ehdr) eh;
        memcpy(&eh, head, sizeof eh);
        char buf[8192] = {0};
        assert_true(eh.e_phoff + (size_t)eh.e_phnum * sizeof(ElfW(Phdr)) <= sizeof buf);
        assert_int_equal(pread(exe, buf, sizeof buf, 0), (ssize_t)sizeof buf);
        cleanup_close int fd = temp_file(buf, sizeof buf, &size);
        assert_true(minik_selfcopy_exec_size(fd, size, &out, &err) < 0);
        assert_non_null(strstr(err->msg, "segment"));
        assert_non_null(strstr(err->msg, "lies past its end"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(copy_is_sealed_shared_and_only_the_loadable_part),
        cmocka_unit_test(exec_size_refuses_what_is_not_an_elf_of_this_machine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
