/**
 * Every model kind, one file each. A unit test checks that each file of this folder is listed
 * here, so adding a kind is adding its file and one line.
 */
export { AddressPool } from './address-pool';
export { Controller } from './controller';
export { ControllerImage } from './controller-image';
export { ControllerNetwork } from './controller-network';
export { ControllerSite } from './controller-site';
export { ControllerSitePrivilege } from './controller-site-privilege';
export { ControllerSlice } from './controller-slice';
export { ControllerSlicePrivilege } from './controller-slice-privilege';
export { ControllerUser } from './controller-user';
export { Deployment } from './deployment';
export { Flavor } from './flavor';
export { Image } from './image';
export { Instance } from './instance';
export { Network } from './network';
export { NetworkSlice } from './network-slice';
export { NetworkTemplate } from './network-template';
export { Node } from './node';
export { Port } from './port';
export { Privilege } from './privilege';
export { Role } from './role';
export { Service } from './service';
export { ServiceAttribute } from './service-attribute';
export { ServiceDependency } from './service-dependency';
export { ServiceInstance } from './service-instance';
export { ServiceInstanceAttribute } from './service-instance-attribute';
export { ServiceInstanceLink } from './service-instance-link';
export { Site } from './site';
export { SiteDeployment } from './site-deployment';
export { Slice } from './slice';
export { Tag } from './tag';
export { User } from './user';
export { View } from './view';
