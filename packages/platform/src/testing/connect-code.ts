import { type Code, ConnectError } from '@connectrpc/connect';

/** The Connect/gRPC code a call failed with, or undefined when it succeeded. */
export async function codeOf(call: Promise<unknown>): Promise<Code | undefined> {
  try {
    await call;
    return undefined;
  } catch (error) {
    return ConnectError.from(error).code;
  }
}
