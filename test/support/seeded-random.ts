export { seededRandom } from '../../src/conditioner/seeded-random.js';
