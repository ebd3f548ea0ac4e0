/**
 * Numpy-style broadcasting for the binary element-wise ops (Add, Sub, Mul, Div): the shape rule
 * with errors that name the node; the loops live with the kernels (lib/kernels/broadcast.ts).
 */
export { broadcastBinary, broadcastShapes, broadcastStrides, type BinaryFn } from '../../kernels/broadcast.js';
