/** The local ONOS stand-in (see server.ts). */
export {
  type OnosKnobs,
  type OnosRequestRecord,
  type OnosSchemaCheck,
  type OnosSchemaName,
  type OnosStandIn,
  type OnosStandInOptions,
  startOnosStandIn,
} from './server';
export { flowIdOf, OnosState, parseOarUrl, VTN_APP } from './state';
