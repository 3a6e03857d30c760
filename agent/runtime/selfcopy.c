#include "agent/runtime/selfcopy.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/xalloc.h"

static int pread_all(int fd, void *buf, size_t len, off_t off, const char *what,
                     minik_error_t **err)
{
    ssize_t n;
    do
        n = pread(fd, buf, len, off);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return minik_error_set(err, errno, "read the minik binary's %s", what);
    if ((size_t)n != len)
        return minik_error_set(err, 0, "the minik binary is truncated in its %s", what);
    return 0;
}

int minik_selfcopy_exec_size(int fd, off_t file_size, off_t *out, minik_error_t **err)
{
    ElfW(Ehdr) eh;
    if ((size_t)file_size < sizeof eh)
        return minik_error_set(err, 0, "the minik binary is too small for an ELF header");
    int r = pread_all(fd, &eh, sizeof eh, 0, "ELF header", err);
    if (r < 0)
        return r;
#if __SIZEOF_POINTER__ == 8
    const int want_class = ELFCLASS64;
#else
    const int want_class = ELFCLASS32;
#endif
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != want_class)
        return minik_error_set(err, 0, "the minik binary is not an ELF file of this machine");
    if (eh.e_phentsize != sizeof(ElfW(Phdr)) || eh.e_phnum == 0 || eh.e_phnum == PN_XNUM)
        return minik_error_set(err, 0, "the minik binary has malformed program headers");
    uint64_t end = (uint64_t)eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(ElfW(Phdr));
    if (end > (uint64_t)file_size)
        return minik_error_set(err, 0, "the minik binary's program headers lie past its end");
    cleanup_free ElfW(Phdr) *ph = xcalloc(eh.e_phnum, sizeof *ph);
    if ((r = pread_all(fd, ph, eh.e_phnum * sizeof *ph, (off_t)eh.e_phoff, "program headers",
                       err)) < 0)
        return r;
    if (end < sizeof eh)
        end = sizeof eh;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        uint64_t seg_end = (uint64_t)ph[i].p_offset + (uint64_t)ph[i].p_filesz;
        if (seg_end < ph[i].p_offset || seg_end > (uint64_t)file_size)
            return minik_error_set(err, 0, "the minik binary's segment %u lies past its end", i);
        if (seg_end > end)
            end = seg_end;
    }
    *out = (off_t)end;
    return 0;
}

static int make_copy(minik_error_t **err)
{
    cleanup_close int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (src < 0)
        return minik_error_set(err, errno, "open /proc/self/exe");
    struct stat st;
    if (fstat(src, &st) < 0)
        return minik_error_set(err, errno, "stat /proc/self/exe");
    off_t size = 0;
    int r = minik_selfcopy_exec_size(src, st.st_size, &size, err);
    if (r < 0)
        return r;
    cleanup_close int mfd = memfd_create("minik", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (mfd < 0)
        return minik_error_set(err, errno, "memfd_create");
    off_t left = size;
    off_t off = 0;
    while (left > 0) {
        ssize_t n = sendfile(mfd, src, &off, (size_t)left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return minik_error_set(err, n < 0 ? errno : EIO, "copy the minik binary");
        left -= n;
    }
    /* The section headers were cut off with the debug info; say there are none, as a
     * stripped binary would, rather than point past the end of the file. */
    ElfW(Ehdr) eh;
    if ((r = pread_all(mfd, &eh, sizeof eh, 0, "ELF header", err)) < 0)
        return r;
    if (eh.e_shoff >= (uint64_t)size) {
        eh.e_shoff = 0;
        eh.e_shnum = 0;
        eh.e_shstrndx = SHN_UNDEF;
        if (pwrite(mfd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh)
            return minik_error_set(err, errno, "write the minik binary copy's ELF header");
    }
    if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
        return minik_error_set(err, errno, "seal the minik binary copy");
    return steal_fd(&mfd);
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* Kept for the life of the process: sealed, so sharing it between containers is safe. */
static int shared_fd = -1;

int minik_selfcopy_fd(minik_error_t **err)
{
    pthread_mutex_lock(&lock);
    int r = shared_fd;
    if (r < 0) {
        r = make_copy(err);
        if (r >= 0)
            shared_fd = r;
    }
    if (r >= 0 && (r = fcntl(shared_fd, F_DUPFD_CLOEXEC, 0)) < 0)
        r = minik_error_set(err, errno, "dup the minik binary copy");
    pthread_mutex_unlock(&lock);
    return r;
}
