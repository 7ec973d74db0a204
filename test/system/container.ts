// The container harness lives in src/lab/ since `warden lab fleet` uses it too.
export * from '../../src/lab/container.js';
