// qtest.submitDefect in the Node addon, against the Rally and qTest simulators.
import * as tmbridge from '../index.js';
import { defectQtestSuite } from '../test-support/defect-qtest.suite.mjs';

defectQtestSuite('addon', tmbridge);
