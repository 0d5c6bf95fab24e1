/* The mode of the files that hold secrets (password_file, users_file,
 * tokens_file): a warning, as ssh gives for a private key anyone can read,
 * never a refusal, because the mount often decides the mode (a Kubernetes
 * Secret is 0644 unless defaultMode says otherwise). */
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapgate/conf.h"

/* Is gid the process's group, primary or supplementary? */
static bool in_my_groups(gid_t gid)
{
    if (gid == getegid())
        return true;
    gid_t groups[256];
    int n = getgroups((int)(sizeof(groups) / sizeof(groups[0])), groups);
    for (int i = 0; i < n; i++)
        if (groups[i] == gid)
            return true;
    return false;
}

void sg_conf_check_secret_mode(struct sg_conf_errs *errs, int line, const char *path,
                               const char *file)
{
    struct stat st;
    /* stat, not lstat: a Secret's file is a symlink into ..data/. A file
     * that cannot be read has its error from the loader already. */
    if (stat(file, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    mode_t open_bits = st.st_mode & 077;
    if (open_bits == 0)
        return;
    /* Readable by its group alone, that group being ours and the owner
     * someone else (root): the file is shared with this service only, which
     * cannot change it. That is the systemd layout (root:snapgate 0640) and a
     * Kubernetes Secret under fsGroup (root:fsGroup 0440). */
    if (open_bits == 040 && st.st_uid != geteuid() && in_my_groups(st.st_gid))
        return;
    const char *who = (open_bits & 007) ? "anyone" : "its group";
    const char *what =
        (open_bits & 022) ? ((open_bits & 044) ? "read and change" : "change") : "read";
    sg_conf_errs_warn(errs, line, path,
                      "%s has mode %04o: %s can %s it; a secret should be 0600 or 0400 "
                      "(Kubernetes: defaultMode: 0400, or 0440 with fsGroup)",
                      file, (unsigned)(st.st_mode & 07777), who, what);
}
