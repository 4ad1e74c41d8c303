// Errors with stable codes. Every error a user can cause (a bad rule, pcap, flag or YAML)
// names where it came from and why, so it can be fixed without reading the source.

export type LateralErrorCode =
  | 'LATERAL_ERR_RULE_PARSE'
  | 'LATERAL_ERR_RULE_UNSUPPORTED'
  | 'LATERAL_ERR_CONFIG'
  | 'LATERAL_ERR_PCAP'
  | 'LATERAL_ERR_USAGE'
  | 'LATERAL_ERR_NATIVE'
  | 'LATERAL_ERR_FIREWALL'
  | 'LATERAL_ERR_KERNEL'
  | 'LATERAL_ERR_DOCKER'
  | 'LATERAL_ERR_IO';

export interface SourceLocation {
  file: string;
  /** 1-based line; 0 when the error is about the file as a whole. */
  line: number;
}

export class LateralError extends Error {
  readonly code: LateralErrorCode;
  readonly location: SourceLocation | undefined;

  constructor(code: LateralErrorCode, message: string, location?: SourceLocation, options?: { cause?: unknown }) {
    super(location ? `${location.file}${location.line > 0 ? `:${location.line}` : ''}: ${message}` : message, options);
    this.name = 'LateralError';
    this.code = code;
    this.location = location;
  }
}
