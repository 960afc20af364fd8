/* rt_status.c -- lf_status_str: the message table of LF_STATUS. */
#include "lineiform.h"

static const char *const rt_status_msgs[LF_STATUS__MAX] = {
#define RT_STATUS_MSG_(name, msg) msg,
    LF_STATUS(RT_STATUS_MSG_)
#undef RT_STATUS_MSG_
};

const char *lf_status_str(enum lf_status s)
{
    return (unsigned)s < LF_STATUS__MAX ? rt_status_msgs[s] : "unknown status";
}
