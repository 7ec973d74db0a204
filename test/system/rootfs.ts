// The root file system builder lives in src/lab/ since `warden lab fleet` uses it too.
export * from '../../src/lab/rootfs.js';
