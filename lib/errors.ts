/**
 * Typed errors. Every error convnode throws for bad input carries a stable `code`
 * and a message that names the parameter (or layer) and the rule it broke.
 */
export type ConvnodeErrorCode =
  | 'ERR_CONVNODE_PARAMETER'
  | 'ERR_CONVNODE_SHAPE'
  | 'ERR_CONVNODE_BACKEND'
  | 'ERR_CONVNODE_ONNX'
  | 'ERR_CONVNODE_IMAGE'
  | 'ERR_CONVNODE_DISPOSED';

export class ConvnodeError extends Error {
  readonly code: ConvnodeErrorCode;
  constructor(code: ConvnodeErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An option or argument has a value outside its allowed range or type. */
export class ParameterError extends ConvnodeError {
  constructor(message: string) {
    super('ERR_CONVNODE_PARAMETER', message);
  }
}

/** A tensor's shape or length does not fit what a layer or operation needs. */
export class ShapeError extends ConvnodeError {
  constructor(message: string) {
    super('ERR_CONVNODE_SHAPE', message);
  }
}

/** A backend cannot be selected or failed to load. */
export class BackendError extends ConvnodeError {
  constructor(message: string) {
    super('ERR_CONVNODE_BACKEND', message);
  }
}

/** A model, layer or prepared kernel was used after dispose() released its weights. */
export class DisposedError extends ConvnodeError {
  constructor(message: string) {
    super('ERR_CONVNODE_DISPOSED', message);
  }
}
