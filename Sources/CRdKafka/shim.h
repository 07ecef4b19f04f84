#ifndef SPECTASK_CRDKAFKA_SHIM_H
#define SPECTASK_CRDKAFKA_SHIM_H
#include <librdkafka/rdkafka.h>
#endif
