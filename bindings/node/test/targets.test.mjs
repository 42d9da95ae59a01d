// tmbridge's qtest.* and testrail.* functions in the Node addon, against their simulators.
import * as tmbridge from '../index.js';
import { targetsSuite } from '../test-support/targets.suite.mjs';

targetsSuite('addon', tmbridge);
