// The host-side helpers live in src/lab/ since `warden lab fleet` uses them too.
export * from '../../src/lab/host.js';
