// Reference row: the least prom-http's Express design can cost, with no metrics library at all: the root
// router's dispatch wrapped and one subscriber counting finished responses (lib/floor-express.mjs); nothing recorded.
import { listenExpressFloor } from '../lib/floor-express.mjs';

listenExpressFloor();
