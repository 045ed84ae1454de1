/* SPDX-License-Identifier: MIT */
/*
 * share.c - the loop's state as other threads see it (see share.h).
 */
#include "share.h"

void share_init(struct share *s, const struct roostd_conf *conf)
{
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->conf = conf;
	s->readers = 0;
	s->writer = false;
	s->node = (struct share_node){0};
}

void share_done(struct share *s)
{
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
}

const struct roostd_conf *share_conf_get(struct share *s)
{
	const struct roostd_conf *c;

	pthread_mutex_lock(&s->mu);
	while (s->writer)
		pthread_cond_wait(&s->cv, &s->mu);
	s->readers++;
	c = s->conf;
	pthread_mutex_unlock(&s->mu);
	return c;
}

void share_conf_put(struct share *s)
{
	pthread_mutex_lock(&s->mu);
	s->readers--;
	pthread_mutex_unlock(&s->mu);
}

bool share_write_try(struct share *s)
{
	bool free_now;

	pthread_mutex_lock(&s->mu);
	s->writer = true;
	free_now = s->readers == 0;
	pthread_mutex_unlock(&s->mu);
	return free_now;
}

bool share_write_waiting(struct share *s)
{
	bool w;

	pthread_mutex_lock(&s->mu);
	w = s->writer;
	pthread_mutex_unlock(&s->mu);
	return w;
}

void share_write_done(struct share *s, const struct roostd_conf *conf)
{
	pthread_mutex_lock(&s->mu);
	s->conf = conf;
	s->writer = false;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void share_node_get(struct share *s, struct share_node *ret)
{
	pthread_mutex_lock(&s->mu);
	*ret = s->node;
	pthread_mutex_unlock(&s->mu);
}

void share_node_set(struct share *s, const struct share_node *n)
{
	pthread_mutex_lock(&s->mu);
	s->node = *n;
	pthread_mutex_unlock(&s->mu);
}
