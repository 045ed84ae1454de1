#ifndef ROOST_CONF_H
#define ROOST_CONF_H
#endif
