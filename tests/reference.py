"""Textbook references the tests compare the golden model with."""

import heapq


def huffman_cost(hist):
    """Optimal unlimited-length cost ``sum(hist * length)`` (textbook Huffman, heapq)."""
    heap = [int(w) for w in hist if w > 0]
    if len(heap) == 1:
        return heap[0]
    heapq.heapify(heap)
    cost = 0
    while len(heap) > 1:
        a, b = heapq.heappop(heap), heapq.heappop(heap)
        cost += a + b
        heapq.heappush(heap, a + b)
    return cost
