#ifndef ROOST_BIRD_H
#define ROOST_BIRD_H
#endif
