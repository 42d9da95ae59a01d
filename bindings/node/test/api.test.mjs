import * as tmbridge from '../index.js';
import { apiSuite } from '../../../tests/js/api.suite.mjs';

apiSuite('node addon', tmbridge);
