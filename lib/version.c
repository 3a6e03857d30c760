#include "version.h"

#ifndef MINIK_VERSION
#define MINIK_VERSION "0.0.0"
#endif
#ifndef MINIK_GIT_COMMIT
#define MINIK_GIT_COMMIT "unknown"
#endif
#ifndef MINIK_BUILD_DATE
#define MINIK_BUILD_DATE "unknown"
#endif

const char *minik_version(void)
{
    return MINIK_VERSION;
}

const char *minik_git_commit(void)
{
    return MINIK_GIT_COMMIT;
}

const char *minik_build_date(void)
{
    return MINIK_BUILD_DATE;
}
