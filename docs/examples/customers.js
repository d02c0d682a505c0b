// A view per customer over two services' stores: how many orders, how much ordered and paid.
// Register it: dotnet Client/bin/Release/net10.0/Client.dll projection put customers --script @docs/examples/customers.js
fromStores(['shop', 'billing'])
  .partitionBy(e => e.data.customerId)
  .when({
    $init: () => ({ orders: 0, ordered: 0, paid: 0 }),
    OrderPlaced: (s, e) => { s.orders++; s.ordered += e.data.amount; return s; },
    PaymentReceived: (s, e) => { s.paid += e.data.amount; return s; },
  });
