import { ConvnodeError } from '../errors.js';

/**
 * A model file convnode cannot read or run: malformed bytes, an operator it does not implement,
 * a missing initializer, an attribute outside what the ONNX spec allows.
 */
export class OnnxError extends ConvnodeError {
  constructor(message: string) {
    super('ERR_CONVNODE_ONNX', message);
  }
}
