// tmbridge's rally.* functions in the Node addon, against the Rally simulator.
import * as tmbridge from '../index.js';
import { rallySuite } from '../test-support/rally.suite.mjs';

rallySuite('addon', tmbridge, new URL('../index.js', import.meta.url).href);
