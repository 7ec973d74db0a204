// The subject registry: one line per subject plugin. Kinds, probes and actions a subject needs are
// registered in their own families' tables; a subject brings its invariants and its repair rule.
import { registry } from '../plugins/plugin.js';
import etcd from './etcd/index.js';
import group from './group/index.js';
import ratelimiter from './ratelimiter/index.js';
import type { SubjectPlugin } from './subject.js';

export const subjects = registry('subject', { group, etcd, ratelimiter } satisfies Record<string, SubjectPlugin>);
