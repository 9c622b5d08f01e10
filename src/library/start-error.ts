/**
 * Why a gaffer refused to start, before it touched anything: another gaffer holds its data folder
 * (GAFFER_DATA_DIR_IN_USE), or a port it is to serve on is taken (GAFFER_PORT_IN_USE). `gaffer up`
 * prints the message and exits with EXIT.startup. No dependencies: the CLI's error reporting
 * imports it without loading the server.
 */
export class StartError extends Error {
  readonly code: 'GAFFER_DATA_DIR_IN_USE' | 'GAFFER_PORT_IN_USE';

  constructor(code: StartError['code'], message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StartError';
    this.code = code;
  }
}
