import express from 'express';
import { metrics } from '@prom-http/express';
import { done, hasSample, scrape } from './lib/check.mjs';

const app = express();
const m = metrics();
app.use(m);

const info = m.info('app_info', 'Application information', { version: '1.4.2', commit: 'abc123' }); // returns that series: .set(0) changes it

app.listen(3000);
const [{ url }] = await listening();
hasSample(await scrape(`${url}/metrics`), 'app_info{version="1.4.2",commit="abc123"}', 1);
info.set(0);
hasSample(await scrape(`${url}/metrics`), 'app_info{version="1.4.2",commit="abc123"}', 0);
done();
