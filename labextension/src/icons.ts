import { LabIcon } from '@jupyterlab/ui-components';

import flockSvg from '../style/icons/flock.svg';

/** Three birds: the flock side panel's tab icon. */
export const flockIcon = new LabIcon({ name: 'flock-nbext:flock', svgstr: flockSvg });
