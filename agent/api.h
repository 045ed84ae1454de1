#ifndef ROOST_API_H
#define ROOST_API_H
#endif
