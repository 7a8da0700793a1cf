import type { FastifyInstance, FastifyRequest } from 'fastify';
import { refuseMethod, sendJson } from './apiErrors';
import { orderNow } from './catalog';
import { answerAfterCommit, callerOf } from './gates';
import type { SimulatedInstance } from './instance';

/** The Service Catalog API's `order_now`, which answers 200 (not 201). */
export function registerCatalogRoutes(app: FastifyInstance, instance: SimulatedInstance): void {
  const orderNowUrl = '/api/sn_sc/servicecatalog/items/:itemSysId/order_now';
  app.route({ method: ['GET', 'PUT', 'PATCH', 'DELETE'], url: orderNowUrl, handler: refuseMethod });
  app.post(orderNowUrl, (request: FastifyRequest<{ Params: { itemSysId: string } }>, reply) => {
    const result = orderNow(
      instance.store,
      instance.writer,
      request.params.itemSysId,
      request.body,
      callerOf(request),
    );
    return answerAfterCommit(instance, request, reply, () => sendJson(reply, 200, { result }));
  });
}
