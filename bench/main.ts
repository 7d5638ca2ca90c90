// `npm run bench [devcluster] [controller]`: prints the figures behind lbc's performance claims.
import { benchController } from './controller.js';
import { benchDevcluster } from './devcluster.js';

const which = new Set(process.argv.slice(2));
const all = which.size === 0;

if (all || which.has('devcluster')) await benchDevcluster();
if (all || which.has('controller')) await benchController();
