/*
 * Script Include "SnowTicketConnectorPush" (global scope, not client callable).
 *
 * Tells the snow-ticket connector that one of its tickets changed: a signed POST of
 * {table, sys_id, number, sys_mod_count, correlation_id} to the connector's push receiver, which tells the
 * waiting order to re-read its ticket at once. Called by ticket_changed_business_rule.js (an async "after update"
 * business rule on incident and sc_request).
 *
 * The notice carries identifiers only, never the ticket's content: the connector reads the ticket itself, with
 * its own credentials, and ignores notices older than what it already read (sys_mod_count).
 *
 * Signing (the connector's src/push/signature.ts defines the same scheme):
 *   X-Snow-Timestamp: Unix time in seconds
 *   X-Snow-Signature: v1=<base64 HMAC-SHA256 of "<timestamp>.<body>">, keyed with the shared secret's bytes
 * GlideCertificateEncryption.generateMac takes the key base64-encoded and returns the MAC in base64.
 *
 * System properties (see README.md):
 *   snow_ticket_connector.push.endpoint    (string)    https://connector.example.com/servicenow/ticket-changed
 *   snow_ticket_connector.push.secret      (password2) the same value as TicketConnector.Push.Secret
 *   snow_ticket_connector.push.mid_server  (string, optional) a MID Server name, when the receiver is only
 *                                          reachable from inside the network
 *
 * Plain ES5 for ServiceNow's Rhino engine: this file is not run, linted or compiled by the connector's build.
 */
var SnowTicketConnectorPush = Class.create();

SnowTicketConnectorPush.PROPERTY_PREFIX = 'snow_ticket_connector.push.';
/** The tag the connector writes into correlation_display of every ticket it opens. */
SnowTicketConnectorPush.CORRELATION_DISPLAY = 'snow-ticket-connector';
/** The receiver answers within about 10 seconds (it gives Temporal no longer). */
SnowTicketConnectorPush.HTTP_TIMEOUT_MS = 15000;

// ES5 for Rhino: no trailing comma after a last property or argument, which the formatter would add.
// prettier-ignore
SnowTicketConnectorPush.prototype = {
  initialize: function () {},

  /** Posts the notice for `record` (a GlideRecord of incident or sc_request); never throws. */
  notify: function (record) {
    try {
      var prefix = SnowTicketConnectorPush.PROPERTY_PREFIX;
      if (String(record.getValue('correlation_display')) !== SnowTicketConnectorPush.CORRELATION_DISPLAY) {
        return;
      }
      var endpoint = gs.getProperty(prefix + 'endpoint', '');
      var secret = this._secret();
      if (!endpoint || !secret) {
        gs.warn('SnowTicketConnectorPush: set ' + prefix + 'endpoint and ' + prefix + 'secret; no notice sent');
        return;
      }
      var body = this._body(record);
      var timestamp = String(Math.floor(new Date().getTime() / 1000));
      var key = GlideStringUtil.base64Encode(secret);
      var mac = new GlideCertificateEncryption().generateMac(key, 'HmacSHA256', timestamp + '.' + body);

      var request = new sn_ws.RESTMessageV2();
      request.setEndpoint(endpoint);
      request.setHttpMethod('post');
      request.setHttpTimeout(SnowTicketConnectorPush.HTTP_TIMEOUT_MS);
      request.setRequestHeader('Content-Type', 'application/json');
      request.setRequestHeader('Accept', 'application/json');
      request.setRequestHeader('X-Snow-Timestamp', timestamp);
      request.setRequestHeader('X-Snow-Signature', 'v1=' + mac);
      request.setRequestBody(body);
      var midServer = gs.getProperty(prefix + 'mid_server', '');
      if (midServer) request.setMIDServer(midServer);
      // Fire and forget: a notice that does not arrive is caught by the connector's sweep and safety poll.
      request.executeAsync();
    } catch (e) {
      // Never let a notice break the update that caused it; the message names no secret.
      gs.warn('SnowTicketConnectorPush: notice for ' + record.getValue('number') + ' not sent: ' + e);
    }
  },

  /**
   * The notice's JSON. Non-ASCII characters (a correlation id may hold some) are written as \uXXXX escapes, so
   * that the bytes sent and the text signed are the same whatever charset generateMac uses.
   */
  _body: function (record) {
    var json = JSON.stringify({
      table: String(record.getTableName()),
      sys_id: String(record.getUniqueValue()),
      number: String(record.getValue('number')),
      sys_mod_count: String(record.getValue('sys_mod_count')),
      correlation_id: String(record.getValue('correlation_id') || '')
    });
    return json.replace(/[\u007f-\uffff]/g, function (c) {
      return '\\u' + ('0000' + c.charCodeAt(0).toString(16)).slice(-4);
    });
  },

  /** The shared secret from its password2 property, decrypted; empty when the property is missing. */
  _secret: function () {
    var property = new GlideRecord('sys_properties');
    if (!property.get('name', SnowTicketConnectorPush.PROPERTY_PREFIX + 'secret')) return '';
    return String(property.value.getDecryptedValue() || '');
  },

  type: 'SnowTicketConnectorPush'
};
