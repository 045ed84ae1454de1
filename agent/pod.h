#ifndef ROOST_POD_H
#define ROOST_POD_H
#endif
